// Shared helpers of the console browser tests: Debian's Chromium driven by
// playwright-core (no downloaded browsers), screenshots kept as artifacts.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// playwright-core is a dev dependency of the console front end (webui/).
const { chromium } = require(new URL('../../../webui/node_modules/playwright-core', import.meta.url).pathname);

// launch starts Chromium with a fresh profile; each profile is a separate
// browser (own cookies), so two users can be logged in side by side.
export async function launch({ artifacts, profile = 'main' }) {
  mkdirSync(artifacts, { recursive: true });
  const userDataDir = join(artifacts, `chromium-profile-${profile}-${process.pid}`);
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1440, height: 900 },
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return context;
}

let shot = 0;
export async function screenshot(page, artifacts, name) {
  shot++;
  const file = join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

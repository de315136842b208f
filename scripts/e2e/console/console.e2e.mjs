// Browser test of the Outpost console: Debian's Chromium driven through
// playwright-core against a running console. It walks what a site team does
// on day one and keeps a screenshot of every page in $ARTIFACTS.
//
//   CONSOLE_URL          https://127.0.0.1:8443
//   ADMIN_PASSWORD_FILE  <data-dir>/console/admin-password (first start)
//   ARTIFACTS            directory for screenshots and the report (default test-artifacts/console)
//   BUNDLE_FILE          a bundle carrying TEST_IMAGE; uploaded through the browser
//   TEST_IMAGE           image to deploy (default: the first image the bundle brought)
//   EXPECT_RUNNING=0     accept pods that never start (a control plane without kubelet)
//   EXPECT_METRICS=0     accept an empty CPU chart (monitoring off)
//
// Run: node scripts/e2e/console/console.e2e.mjs   (exit status 1 on failure)
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { launch, screenshot } from './browser.mjs';

const base = (process.env.CONSOLE_URL || 'https://127.0.0.1:8443').replace(/\/$/, '');
const artifacts = process.env.ARTIFACTS || 'test-artifacts/console';
const expectRunning = process.env.EXPECT_RUNNING !== '0';
const expectMetrics = process.env.EXPECT_METRICS !== '0';
const bundleFile = process.env.BUNDLE_FILE || '';
const adminPassword = readFileSync(process.env.ADMIN_PASSWORD_FILE || '/var/lib/outpost/console/admin-password', 'utf8').trim();
const suffix = Date.now().toString(36).slice(-5);
const project = `shop-${suffix}`;
const workspace = `factory-${suffix}`;
const newAdminPassword = `admin-${suffix}-Secret1`;
const viewerName = `viewer-${suffix}`;

const results = [];
let failed = false;

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - started });
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    failed = true;
    results.push({ name, ok: false, ms: Date.now() - started, error: String(err.stack || err) });
    console.log(`FAIL ${name}: ${err.message}`);
    throw err;
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// gotoRetry navigates, trying again when Chromium cancels the load because
// the host's network changed: a test browser runs on the server itself,
// where every new pod adds a network interface.
async function gotoRetry(p, url) {
  for (let i = 0; ; i++) {
    try {
      return await p.goto(url);
    } catch (err) {
      if (i >= 5 || !String(err).includes('ERR_NETWORK_CHANGED')) throw err;
      await p.waitForTimeout(1000);
    }
  }
}

const context = await launch({ artifacts });
const page = context.pages()[0] || (await context.newPage());
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
page.setDefaultTimeout(30000);
const shot = (name) => screenshot(page, artifacts, name);

// api calls the console API from the page, with the page's session and CSRF token.
async function api(p, method, path, body) {
  return p.evaluate(
    async ([method, path, body]) => {
      const s = await (await fetch('/api/v1/auth/session')).json();
      const res = await fetch('/api/v1' + path, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrfToken },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: await res.text() };
    },
    [method, path, body],
  );
}

let testImage = process.env.TEST_IMAGE || '';

try {
  await step('log in with the one-time password', async () => {
    await gotoRetry(page, base + '/');
    await page.getByTestId('username').fill('admin');
    await page.getByTestId('password').fill('not-the-password');
    await page.getByTestId('login').click();
    await page.locator('.error-box').waitFor();
    await shot('login-wrong-password');
    await page.getByTestId('password').fill(adminPassword);
    await page.getByTestId('login').click();
    await page.getByTestId('new-password').waitFor();
    await shot('first-password-change');
  });

  await step('change the first password (server message shown at the field)', async () => {
    await page.getByTestId('current-password').fill(adminPassword);
    await page.getByTestId('new-password').fill('short');
    await page.getByTestId('repeat-password').fill('short');
    await page.getByTestId('change-password').click();
    const err = page.locator('.field-error');
    await err.waitFor();
    assert((await err.textContent()).includes('at least'), 'no field reason for a short password');
    await page.getByTestId('new-password').fill(newAdminPassword);
    await page.getByTestId('repeat-password').fill(newAdminPassword);
    await page.getByTestId('change-password').click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.waitForTimeout(1000);
    await shot('overview');
  });

  await step('create a workspace and a project', async () => {
    await page.getByRole('link', { name: 'Workspaces & projects' }).click();
    await page.getByTestId('new-workspace').click();
    await page.getByTestId('workspace-name').fill(workspace);
    await page.getByTestId('create-workspace').click();
    await page.getByTestId(`new-project-${workspace}`).click();
    await page.getByTestId('project-name').fill('kube-system');
    await page.getByTestId('create-project').click();
    await page.locator('.field-error').waitFor();
    await shot('project-name-refused');
    await page.getByTestId('project-name').fill(project);
    await page.getByTestId('create-project').click();
    await page.waitForURL(`**/projects/${project}/workloads`);
    await page.getByRole('heading', { name: 'Workloads' }).waitFor();
    await shot('empty-project');
  });

  if (bundleFile) {
    await step('upload a bundle in the browser and see its images', async () => {
      assert(existsSync(bundleFile), `BUNDLE_FILE ${bundleFile} does not exist`);
      await gotoRetry(page, base + '/bundles');
      await page.getByTestId('allow-unsigned').check();
      await page.getByTestId('bundle-file').setInputFiles(bundleFile);
      const result = page.locator('[data-testid^="bundle-result-"]').first();
      await result.waitFor({ timeout: 300000 });
      await shot('bundle-imported');
      const text = await result.textContent();
      assert(!text.includes(' 0 images'), `bundle imported no images: ${text}`);
      if (!testImage) testImage = (await result.locator('.mono').textContent()).split('\n')[0].trim();
      await gotoRetry(page, base + '/images');
      await page.locator('table').first().waitFor();
      await shot('images');
      const repo = testImage.replace(/[:@][^/]*$/, '');
      assert(await page.getByText(repo, { exact: false }).count() > 0, `image ${repo} not listed`);
    });
  } else {
    console.log('skip upload a bundle (BUNDLE_FILE not set)');
  }
  assert(testImage, 'no image to deploy: set TEST_IMAGE or BUNDLE_FILE');

  const workloadURL = `${base}/projects/${project}/workloads/deployments/web`;
  await step('deploy an app from the image with the form', async () => {
    await gotoRetry(page, `${base}/projects/${project}/workloads`);
    await page.getByTestId('new-workload').click();
    await page.getByTestId('name').fill('Web_1');
    await page.getByTestId('image').fill(testImage);
    await page.getByTestId('create').click();
    await page.locator('.field-error').first().waitFor();
    await shot('deploy-form-error');
    await page.getByTestId('name').fill('web');
    await page.getByTestId('port').fill('8080');
    await page.getByTestId('expose').selectOption('ClusterIP');
    await shot('deploy-form');
    await page.getByTestId('create').click();
    await page.waitForURL(workloadURL);
  });

  await step(expectRunning ? 'see it Running without reloading' : 'see it listed (pods need a kubelet)', async () => {
    const status = page.locator('.stat-value [data-status]').first();
    if (expectRunning) {
      await page.locator('.stat-value [data-status="Running"]').waitFor({ timeout: 180000 });
    } else {
      await status.waitFor();
    }
    await page.getByTestId('pods').waitFor();
    await shot('workload-detail');
  });

  await step('see its CPU chart', async () => {
    const chart = page.getByTestId('chart-workload-cpu');
    if (expectMetrics) {
      // The first samples arrive within a scrape interval or two.
      for (let i = 0; i < 24 && (await chart.locator('polyline').count()) === 0; i++) {
        await page.waitForTimeout(5000);
        await page.getByRole('button', { name: '15m' }).click();
      }
      assert((await chart.locator('polyline').count()) > 0, 'the CPU chart has no line');
    } else {
      await page.getByText(/Monitoring|No data/).first().waitFor();
    }
    await chart.or(page.locator('.card').filter({ hasText: 'Monitoring' })).first().scrollIntoViewIfNeeded();
    await shot('workload-chart');
  });

  await step('scale it to 2', async () => {
    await page.getByTestId('scale').click();
    await page.getByTestId('scale-replicas').fill('2');
    await page.getByTestId('scale-submit').click();
    if (expectRunning) await page.getByTestId('ready-count').filter({ hasText: '2 / 2' }).waitFor({ timeout: 180000 });
    else await page.getByTestId('ready-count').filter({ hasText: '/ 2' }).waitFor();
    await page.locator('[data-testid="pods"] tbody tr').nth(1).waitFor();
    await shot('scaled');
  });

  if (expectRunning) {
    await step('read its logs live, filter and download', async () => {
      await page.getByRole('tab', { name: 'Logs' }).click();
      await page.getByTestId('log-state').filter({ hasText: /live|ended/ }).waitFor({ timeout: 60000 });
      await page.locator('[data-testid="log-lines"] div').first().waitFor({ timeout: 60000 });
      await shot('logs');
      // Chromium cancels transfers with ERR_NETWORK_CHANGED when a pod's
      // veth appears on this host (the scale-up above); retry like goto.
      const path = join(artifacts, 'web.log');
      for (let i = 0; ; i++) {
        const download = page.waitForEvent('download');
        await page.getByTestId('log-download').click();
        const file = await download;
        try {
          await file.saveAs(path);
          break;
        } catch (err) {
          if (i >= 5 || !/canceled|NETWORK_CHANGED/.test(String(err) + String(await file.failure()))) throw err;
          await page.waitForTimeout(1000);
        }
      }
      assert(readFileSync(path, 'utf8').length > 0, 'downloaded log is empty');
    });
  } else {
    console.log('skip logs (no kubelet)');
  }

  await step('change the image and roll back to revision 1', async () => {
    await page.getByTestId('change-image').click();
    await page.getByTestId('new-image').fill(testImage.includes('@') ? testImage : testImage + '-not-there');
    await page.getByTestId('image-submit').click();
    await page.getByTestId('revision').filter({ hasText: '2' }).waitFor({ timeout: 60000 });
    await page.getByRole('tab', { name: 'Revisions' }).click();
    await page.getByTestId('rollback-1').click();
    await shot('rollback-confirm');
    await page.getByTestId('confirm').click();
    await page.getByTestId('revision').filter({ hasText: '3' }).waitFor({ timeout: 60000 });
    const images = await page.getByTestId('images').textContent();
    assert(images.trim().endsWith(testImage), `after rollback the image is ${images}`);
    await shot('rolled-back');
  });

  await step('add a viewer to the project', async () => {
    const r = await api(page, 'POST', '/users', { name: viewerName, password: 'viewer-initial-1' });
    assert(r.status === 201, `creating the viewer: ${r.status} ${r.body}`);
    await gotoRetry(page, `${base}/projects/${project}/members`);
    await page.getByTestId('member-user').fill(viewerName);
    await page.getByTestId('member-role').selectOption('viewer');
    await page.getByTestId('add-member').click();
    await page.locator(`tr[data-row]`).filter({ hasText: viewerName }).or(page.getByRole('cell', { name: viewerName })).first().waitFor();
    await shot('members');
  });

  await step('a viewer cannot delete', async () => {
    // A second browser profile: its own cookies, while the admin stays logged in.
    const viewerContext = await launch({ artifacts, profile: 'viewer' });
    const viewerPage = viewerContext.pages()[0] || (await viewerContext.newPage());
    viewerPage.setDefaultTimeout(30000);
    await gotoRetry(viewerPage, base + '/');
    await viewerPage.getByTestId('username').fill(viewerName);
    await viewerPage.getByTestId('password').fill('viewer-initial-1');
    await viewerPage.getByTestId('login').click();
    await viewerPage.getByTestId('current-password').fill('viewer-initial-1');
    await viewerPage.getByTestId('new-password').fill('viewer-own-password-1');
    await viewerPage.getByTestId('repeat-password').fill('viewer-own-password-1');
    await viewerPage.getByTestId('change-password').click();
    await viewerPage.getByRole('heading', { name: 'Overview' }).waitFor();
    await gotoRetry(viewerPage, workloadURL);
    await viewerPage.getByTestId('pods').waitFor();
    assert((await viewerPage.getByTestId('delete-workload').count()) === 0, 'the viewer sees a delete button');
    assert((await viewerPage.getByTestId('scale').count()) === 0, 'the viewer sees a scale button');
    await screenshot(viewerPage, artifacts, 'viewer-workload');
    const r = await api(viewerPage, 'DELETE', `/projects/${project}/workloads/deployments/web`);
    assert(r.status === 403, `viewer DELETE answered ${r.status} ${r.body}`);
    const other = await api(viewerPage, 'GET', `/projects/kube-system/workloads`);
    assert(other.status === 404, `viewer reading kube-system answered ${other.status}`);
    await viewerContext.close();
  });

  await step('the audit log shows who changed what', async () => {
    await gotoRetry(page, `${base}/audit`);
    await page.getByTestId('audit-search').fill('web');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('audit').getByText('workload.rollback').first().waitFor();
    await page.getByTestId('audit').getByText('replicas 1 → 2').first().waitFor();
    await shot('audit');
  });

  await step('every other page renders', async () => {
    for (const [path, name] of [
      [`/projects/${project}/pods`, 'pods'], [`/projects/${project}/resources/services`, 'services'], [`/projects/${project}/events`, 'events'],
      ['/cluster/nodes', 'nodes'], ['/alerts', 'alerts'], ['/users', 'users'], ['/account', 'account'], ['/', 'overview-after'],
    ]) {
      await gotoRetry(page, base + path);
      await page.locator('h1').first().waitFor();
      await page.waitForTimeout(800);
      await shot(name);
    }
    assert(pageErrors.length === 0, 'JavaScript errors: ' + pageErrors.join('; '));
  });
} catch {
  // Reported by step(); keep the screenshot of where it stopped.
  await shot('failure').catch(() => {});
} finally {
  writeFileSync(join(artifacts, 'report.json'), JSON.stringify({ base, project, results, pageErrors }, null, 2));
  await context.close();
}
process.exit(failed ? 1 : 0);

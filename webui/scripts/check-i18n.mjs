// Fails the build when the source uses a message key that i18n.js lacks.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const src = new URL('../src/', import.meta.url).pathname;
const catalog = readFileSync(join(src, 'i18n.js'), 'utf8');
const known = new Set([...catalog.matchAll(/'([a-zA-Z0-9_.]+)':/g)].map((m) => m[1]));
const files = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
const missing = [];
for (const f of files(src).filter((f) => /\.(jsx?|mjs)$/.test(f) && !f.endsWith('i18n.js'))) {
  const text = readFileSync(f, 'utf8');
  for (const m of text.matchAll(/\bt\('([a-zA-Z0-9_.]+)'[,)]/g)) if (!known.has(m[1])) missing.push(`${f.replace(src, '')}: ${m[1]}`);
  for (const m of text.matchAll(/'(login\.sso[A-Za-z]+)'/g)) if (!known.has(m[1])) missing.push(`${f.replace(src, '')}: ${m[1]}`);
}
if (missing.length) {
  console.error('message keys missing from src/i18n.js:\n  ' + missing.join('\n  '));
  process.exit(1);
}
console.log(`i18n: ${known.size} keys, all used keys present`);

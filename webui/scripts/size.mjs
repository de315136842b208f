// Prints the first-load size of the built console: index.html plus every
// script and stylesheet it references (not lazily loaded chunks), raw and
// gzip-compressed at the level the server uses (9).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(dist + 'index.html', 'utf8');
const files = ['index.html', ...[...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1])];
let raw = 0, gz = 0;
for (const f of files) {
  const data = readFileSync(dist + f);
  const z = gzipSync(data, { level: 9 }).length;
  raw += data.length;
  gz += z;
  console.log(`${f.padEnd(40)} ${String(data.length).padStart(8)} B  ${String(z).padStart(7)} B gzip`);
}
console.log(`first load: ${raw} B raw, ${gz} B gzip (${(gz / 1024).toFixed(1)} KiB; budget 300 KiB)`);
if (gz > 300 * 1024) process.exit(1);

// Writes a gzip sibling (name.gz) of every compressible file in dist/, which vigil serves to
// clients that accept gzip, and prints the sizes so the bundle's weight is visible in every build.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('../dist/', import.meta.url));
const compressible = /\.(html|js|mjs|css|svg|json|map|txt)$/;
const rows = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (compressible.test(name)) {
      const raw = readFileSync(path);
      const gz = gzipSync(raw, { level: 9 });
      writeFileSync(path + '.gz', gz);
      rows.push([relative(root, path), raw.length, gz.length]);
    }
  }
}
walk(root);
rows.sort((a, b) => b[2] - a[2]);
const kb = (n) => (n / 1024).toFixed(1).padStart(8);
console.log('file'.padEnd(40) + '     raw KB   gzip KB');
for (const [name, raw, gz] of rows) console.log(name.padEnd(40) + kb(raw) + '  ' + kb(gz));
const total = rows.reduce((s, r) => s + r[2], 0);
console.log('total gzipped'.padEnd(50) + kb(total));

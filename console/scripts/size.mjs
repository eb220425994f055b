/**
 * The first-load JavaScript budget (issue 21): every script and module preload index.html loads,
 * gzipped, at most 200 KB. Run after `vite build` (npm run size -w console does both).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET = 200 * 1024;
const dist = path.resolve(import.meta.dirname, '..', 'dist');
const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
const urls = [
  ...[...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]),
  ...[...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1]),
];
if (urls.length === 0) {
  console.error('size: index.html loads no script; is this a build?');
  process.exit(1);
}
let total = 0;
for (const url of urls) {
  const bytes = readFileSync(path.join(dist, url.replace(/^\//, '')));
  const gz = gzipSync(bytes, { level: 9 }).length;
  total += gz;
  process.stdout.write(`${url}: ${(bytes.length / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped\n`);
}
const verdict = total <= BUDGET ? 'within' : 'OVER';
process.stdout.write(
  `first-load JavaScript: ${(total / 1024).toFixed(1)} KB gzipped (${verdict} the ${BUDGET / 1024} KB budget)\n`,
);
if (total > BUDGET) process.exit(1);

// Runs the compiled tests of one kind (unit | browser) with node's test runner, one file at a
// time (browser tests each start a confabd and a Chromium). Exits non-zero if any file fails.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const kind = process.argv[2];
const dir = join(dirname(fileURLToPath(import.meta.url)), 'build-test', kind);
const only = process.argv.slice(3);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();
let failed = [];
for (const f of files) {
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(f);
}
if (failed.length) {
  console.error(`\nweb ${kind} tests failed: ${failed.join(', ')}`);
  process.exit(1);
}
console.log(`\nweb ${kind} tests passed (${files.length} files)`);

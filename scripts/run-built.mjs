// `npm start` and `npm run sluice`: runs dist/<entry>.js (main or cli), building it first when dist/ is
// missing or older than src/. The entry runs in this process, so signals reach the service directly.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, ROOT } from './build.mjs';

const [entry] = process.argv.splice(2, 1);
if (entry !== 'main' && entry !== 'cli') {
  process.stderr.write('usage: node scripts/run-built.mjs main|cli [arguments]\n');
  process.exit(2);
}
try {
  ensureBuilt();
} catch (error) {
  process.stderr.write(`sluice: ${error.message}\n`);
  process.exit(1);
}
await import(pathToFileURL(join(ROOT, 'dist', `${entry}.js`)).href);

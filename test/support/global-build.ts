import { spawnSync } from 'node:child_process';

/**
 * vitest global setup: tests that start the service as users do (`npm start`, the CLI through npm) run the
 * compiled dist/; build it once here, unless it is already newer than src/, so no test pays for the build.
 */
export default function setup(): void {
  const result = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error('the build of dist/ failed: run `npm run build` to see why');
}

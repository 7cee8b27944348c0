// Compiles src/ to dist/ with tsc when dist/ is missing or older than the sources, so `npm start` runs
// JavaScript without a separate build step. Several processes starting at once build once: the first
// takes a lock directory, the others wait for it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(ROOT, 'dist', '.tsbuildinfo');
const LOCK = join(ROOT, 'dist.lock');
const STALE_LOCK_MS = 120_000;

const mtimeOf = (path) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
};

/** The newest modification time of the build's inputs: every file under src/ and the tsconfigs. */
const newestSource = () => {
  let newest = Math.max(
    mtimeOf(join(ROOT, 'tsconfig.json')) ?? 0,
    mtimeOf(join(ROOT, 'tsconfig.build.json')) ?? 0,
  );
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, mtimeOf(path) ?? 0);
    }
  };
  walk(join(ROOT, 'src'));
  return newest;
};

/** True when dist/ can run as it is: built after the last change to src/, or shipped without src/ (an image). */
export const isBuilt = () => {
  const built = mtimeOf(STAMP);
  if (built === undefined) return false;
  if (mtimeOf(join(ROOT, 'src')) === undefined) return true;
  return built >= newestSource();
};

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const compile = () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  // Build output goes to stderr: stdout carries the service's log lines.
  const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], {
    cwd: ROOT,
    stdio: ['ignore', 2, 2],
  });
  if (result.status !== 0) throw new Error('the TypeScript build failed (npm run build shows why)');
  // tsc leaves its build info untouched when nothing changed: stamp it, or every start would build again.
  const now = new Date();
  utimesSync(STAMP, now, now);
};

/** Builds dist/ if it is missing or stale; waits for another process's build instead of racing it. */
export const ensureBuilt = () => {
  if (isBuilt()) return;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const age = Date.now() - (mtimeOf(LOCK) ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      else sleep(100);
      if (isBuilt()) return;
    }
  }
  try {
    if (!isBuilt()) {
      process.stderr.write('sluice: building dist/ from src/ (tsc)…\n');
      compile();
    }
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    ensureBuilt();
  } catch (error) {
    process.stderr.write(`sluice: ${error.message}\n`);
    process.exit(1);
  }
}

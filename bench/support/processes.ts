import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '../../test/support/private-redis';

export const ROOT = new URL('../..', import.meta.url).pathname;

type Line = Record<string, unknown>;
export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export interface NodeProcess {
  child: ChildProcess;
  pid: number;
  /** stdout and stderr go to this file, so the bench process spends no CPU reading a chatty child's logs. */
  logFile: string;
  exited: Promise<Exit>;
  /** Resolves with the first JSON line (since the start) that matches; rejects on timeout or exit. */
  waitForLine: (matches: (line: Line) => boolean, timeoutMs: number) => Promise<Line>;
  /** Every line the process has written so far (JSON parsed; other text as { text }). */
  lines: () => Line[];
  /** SIGTERM (or `signal`), then SIGKILL if it has not exited within `graceMs`; removes the log file. */
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<Exit>;
}

/** Reads a growing log file line by line from where it last stopped. */
const lineReader = (path: string) => {
  let offset = 0;
  let partial = '';
  const seen: Line[] = [];
  const buffer = Buffer.alloc(64 * 1024);
  return (): Line[] => {
    const fd = openSync(path, 'r');
    try {
      for (let read = readSync(fd, buffer, 0, buffer.length, offset); read > 0; ) {
        offset += read;
        partial += buffer.subarray(0, read).toString('utf8');
        read = readSync(fd, buffer, 0, buffer.length, offset);
      }
    } finally {
      closeSync(fd);
    }
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const text of lines) {
      try {
        seen.push(JSON.parse(text) as Line);
      } catch {
        seen.push({ text });
      }
    }
    return seen;
  };
};

/**
 * The V8 flags `npm start` runs the service with (package.json is the one place they are written): every
 * process a bench starts runs with them, so it measures the service as deployed.
 */
export const SERVICE_NODE_FLAGS: string[] = (() => {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const flags = /^exec node (.*?)\s*scripts\/run-built\.mjs main$/.exec(scripts.start)?.[1];
  if (flags === undefined) throw new Error(`unexpected start script: ${scripts.start}`);
  return flags.split(/\s+/).filter(Boolean);
})();

/**
 * Starts `node <service flags> [nodeArgs] <script>` from the repository root with its output in a temp file;
 * a `.ts` script runs through tsx, a `.js` one (the compiled service in dist/) as it is.
 */
export const spawnNode = (
  script: string,
  { env = {}, nodeArgs = [] }: { env?: Record<string, string>; nodeArgs?: string[] } = {},
): NodeProcess => {
  const logFile = join(mkdtempSync(join(tmpdir(), 'sluice-bench-log-')), 'output.log');
  const fd = openSync(logFile, 'a');
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...nodeArgs, ...loader, script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const readLines = lineReader(logFile);

  const waitForLine = (matches: (line: Line) => boolean, timeoutMs: number): Promise<Line> =>
    new Promise((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      const poll = () => {
        const lines = readLines();
        const found = lines.find(matches);
        if (found) return resolve(found);
        const tail = JSON.stringify(lines.slice(-5));
        if (hasExited) return reject(new Error(`${script} exited before the expected line: ${tail}`));
        if (Date.now() > deadline)
          return reject(new Error(`${script}: no expected line in ${timeoutMs} ms: ${tail}`));
        setTimeout(poll, 25);
      };
      poll();
    });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<Exit> => {
    if (!hasExited) child.kill(signal);
    const timer = setTimeout(() => {
      if (!hasExited) child.kill('SIGKILL');
    }, graceMs);
    const exit = await exited;
    clearTimeout(timer);
    // The log of a service under load runs to megabytes; what a failure needs was read before stopping.
    rmSync(dirname(logFile), { recursive: true, force: true });
    return exit;
  };

  return { child, pid: child.pid!, logFile, exited, waitForLine, lines: readLines, stop };
};

/** Compiles src/ to dist/ unless it is up to date, as `npm start` does before it runs. */
export const ensureBuilt = (): void => {
  const result = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('the build of dist/ failed');
};

/**
 * The real service (dist/main.js, as `npm start` runs it) on a free port; resolves once /health answers
 * (its "listening" line is at info, which LOG_LEVEL=error hides).
 */
export const startService = async (
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<{ process: NodeProcess; url: string }> => {
  ensureBuilt();
  const url = `http://127.0.0.1:${await freePort()}`;
  const service = spawnNode('dist/main.js', {
    env: { HOST: '127.0.0.1', ...env, PORT: url.split(':')[2]! },
    nodeArgs,
  });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const up = await fetch(`${url}/health`).then(
        (res) => res.ok,
        () => false,
      );
      if (up) return { process: service, url };
      if (service.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`dist/main.js did not answer /health: ${JSON.stringify(service.lines().slice(-5))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await service.stop('SIGKILL');
    throw error;
  }
};

/**
 * A baseline server of bench/baseline/ (bare-hono.ts by default: a Hono app that parses JSON and validates
 * nothing); resolves once it listens.
 */
export const startBaseline = async (
  script = 'bench/baseline/bare-hono.ts',
  env: Record<string, string> = {},
): Promise<{ process: NodeProcess; url: string }> => {
  const server = spawnNode(script, { env: { PORT: '0', ...env } });
  try {
    const line = await server.waitForLine((l) => l.msg === 'baseline listening', 30_000);
    return { process: server, url: String(line.url) };
  } catch (error) {
    await server.stop('SIGKILL');
    throw error;
  }
};

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisAnswers } from '../../src/ops/local-redis';

export interface PrivateRedis {
  url: string;
  port: number;
  /** Where the append-only file lives (when `appendOnly`). */
  dir: string;
  /** SIGTERM and wait for the exit (an append-only file is flushed first). */
  stop: () => Promise<void>;
  /** Starts it again on the same port (and the same data dir); resolves when it answers PING. */
  start: () => Promise<void>;
  /** SIGKILL: a crash, nothing flushed. */
  kill: () => Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that stops answering without closing its connections (a freeze, a partition). */
  pause: () => void;
  resume: () => void;
  /** Stops it and removes its data dir. */
  dispose: () => Promise<void>;
}

/** A port nothing listens on right now (the OS picks it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });

const waitUntilAnswering = async (port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await redisAnswers('127.0.0.1', port, 200))) {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited (${child.exitCode})`);
    if (Date.now() > deadline)
      throw new Error(`redis-server on port ${port} did not answer in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/**
 * A redis-server of this test alone on a free port, for tests that stop, restart or crash Redis (the shared
 * instance on 6379 is never touched). `appendOnly` keeps the data across stop()/start(); without it a
 * restart comes back empty.
 */
export const startPrivateRedis = async ({ appendOnly = false } = {}): Promise<PrivateRedis> => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', appendOnly ? 'yes' : 'no', '--appendfsync', 'always', '--daemonize', 'no');
  let child: ChildProcess | undefined;
  const launch = async () => {
    if (child !== undefined) return;
    const started = spawn('redis-server', args, { stdio: 'ignore' });
    child = started;
    await waitUntilAnswering(port, started);
  };
  const end = async (signal: NodeJS.Signals) => {
    const running = child;
    child = undefined;
    if (running === undefined) return;
    running.kill(signal);
    await exited(running);
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop: () => end('SIGTERM'),
    start: launch,
    kill: () => end('SIGKILL'),
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    dispose: async () => {
      child?.kill('SIGCONT');
      await end('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

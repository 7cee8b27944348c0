import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisAnswers } from '../../src/ops/local-redis';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * vitest global setup: unless REDIS_URL is set, the whole run gets a redis-server of its own, so no test
 * depends on what a shared instance holds (a keyspace of millions makes every SCAN slow) or leaves there.
 * Without the binary it falls back to redis://127.0.0.1:6379, each test on its own prefix.
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.REDIS_URL) return undefined;
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-test-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  for (let waited = 0; !(await redisAnswers('127.0.0.1', port)); waited += 50) {
    if (child.exitCode !== null || waited > 10_000)
      throw new Error('the test run’s redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
  return async () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
}

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureLocalRedis, RedisNotAvailable, redisAnswers } from '../../src/ops/local-redis';
import { createLogger } from '../../src/ops/logger';
import { TEST_REDIS_URL } from '../support/redis';

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe('the embedded default launches a local redis-server when nothing answers', () => {
  const dirs: string[] = [];
  const originalPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = originalPath;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('given a free port and redis-server installed, when ensured, then it runs with its append-only file under the data dir', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-redis-'));
    dirs.push(dataDir);
    const launched = await ensureLocalRedis(createLogger('silent'), { port, dataDir });
    expect(launched).toBeDefined();
    expect(await redisAnswers('127.0.0.1', port)).toBe(true);
    await launched?.stop();
    expect(await redisAnswers('127.0.0.1', port)).toBe(false);
    expect(existsSync(join(dataDir, 'appendonlydir')) || existsSync(join(dataDir, 'appendonly.aof'))).toBe(
      true,
    );
  });

  it('given a Redis already answering, when ensured, then nothing is launched', async () => {
    const { port } = new URL(TEST_REDIS_URL);
    expect(await ensureLocalRedis(createLogger('silent'), { port: Number(port) })).toBeUndefined();
  });

  it('given no redis-server on PATH and nothing answering, then it refuses with how to get Redis', async () => {
    const port = await freePort();
    process.env.PATH = '/nonexistent';
    const attempt = ensureLocalRedis(createLogger('silent'), { port, dataDir: join(tmpdir(), 'unused') });
    await expect(attempt).rejects.toBeInstanceOf(RedisNotAvailable);
    await expect(attempt).rejects.toThrow(/apt-get install redis-server|REDIS_URL/);
  });
});

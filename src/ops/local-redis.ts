import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import type { Logger } from 'pino';

/** True when something at host:port answers a Redis PING within the timeout. */
export const redisAnswers = (host: string, port: number, timeoutMs = 500): Promise<boolean> =>
  new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => finish(/^(\+PONG|-NOAUTH|-ERR)/.test(data.toString())));
  });

const hasRedisServer = (): boolean =>
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

export class RedisNotAvailable extends Error {
  override readonly name = 'RedisNotAvailable';
}

/**
 * The embedded default: when REDIS_URL is unset and nothing answers on 127.0.0.1:6379, launch a
 * redis-server child with its data (append-only file on) under ./data/redis. Returns a stop function.
 */
export const ensureLocalRedis = async (
  log: Logger,
  { host = '127.0.0.1', port = 6379, dataDir = './data/redis' } = {},
): Promise<{ stop: () => Promise<void> } | undefined> => {
  if (await redisAnswers(host, port)) return undefined;
  if (!hasRedisServer()) {
    throw new RedisNotAvailable(
      `nothing answers at redis://${host}:${port} and redis-server is not installed. ` +
        'Install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) ' +
        'or set REDIS_URL=redis://host:port.',
    );
  }
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      host,
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore' },
  );
  log.info(
    { port, dir, pid: child.pid },
    'launched a local redis-server (REDIS_URL unset, nothing answered)',
  );
  for (let waited = 0; !(await redisAnswers(host, port)); waited += 50) {
    if (child.exitCode !== null || waited > 5000)
      throw new RedisNotAvailable('the launched redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM'); // redis-server flushes its append-only file on SIGTERM
      }),
  };
};

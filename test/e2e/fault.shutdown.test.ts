// Shutdown whatever the outside does: stdout gone (`npm start | head -2`), a client that never finishes
// its request. Real processes, started as `npm start` where that is what a user runs.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/private-redis';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';
import { startServiceProcess } from '../support/service-process';

const ROOT = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sluice-shutdown-fault-'));
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await deleteKeysWithPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

const env = (name: string) => {
  const prefix = uniqueRedisPrefix(name);
  prefixes.push(prefix);
  return {
    EVENTSTORE_URL: `sqlite:${join(dir, `${name}.sqlite`)}`,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    PORT: '0',
    LOG_LEVEL: 'info',
  };
};

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('stdout that stops being read', () => {
  it('given a log reader that pauses (a full pipe), when requests keep coming and then SIGTERM, then every request is answered and the service exits 0 within the bound', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...env('stdout-paused'), PORT: String(port) },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    // Nobody reads child.stdout: after 64 KiB of log lines the pipe is full.
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      const baseUrl = `http://127.0.0.1:${port}`;
      for (let i = 0; ; i++) {
        if (
          (await fetch(`${baseUrl}/health`).then(
            (r) => r.status,
            () => 0,
          )) === 200
        )
          break;
        if (i > 300) throw new Error('the service did not answer /health within 30 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      let answered = 0;
      for (let round = 0; round < 40; round++) {
        const statuses = await Promise.all(
          Array.from({ length: 50 }, () =>
            fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status),
          ),
        );
        answered += statuses.filter((status) => status === 200).length;
      }
      expect(answered).toBe(2000);
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalledAt).toBeLessThan(10_000);
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);
});

describe('shutdown when stdout is gone', () => {
  it('given `npm start` whose stdout reader went away after two lines, when npm gets SIGTERM, then the service exits 0 within the bound', async () => {
    const npm = spawn('npm', ['start'], { cwd: ROOT, env: { ...process.env, ...env('stdout-gone') } });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      npm.once('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      const baseUrl = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('npm start did not listen within 30 s')), 30_000);
        createInterface({ input: npm.stdout }).on('line', (line) => {
          if (!line.includes('"sluice listening"')) return;
          clearTimeout(timer);
          resolve(String((JSON.parse(line) as { url: string }).url));
        });
      });
      // The reader goes, as `head -2` does: every later log line meets a closed pipe (EPIPE).
      npm.stdout.destroy();
      for (let i = 0; i < 5; i++) expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
      const servicePids = execFileSync('pgrep', ['-P', String(npm.pid)])
        .toString()
        .trim()
        .split('\n')
        .map(Number);

      const signalledAt = Date.now();
      npm.kill('SIGTERM');
      const exit = await exited;
      expect(exit).toEqual({ code: 0, signal: null });
      for (let i = 0; i < 100 && servicePids.some(isAlive); i++) await new Promise((r) => setTimeout(r, 100));
      expect(servicePids.filter(isAlive)).toEqual([]);
      expect(Date.now() - signalledAt).toBeLessThan(10_000);
    } finally {
      // Nothing left to kill (pkill exits 1) is the expected case.
      if (npm.pid !== undefined) spawn('pkill', ['-KILL', '-P', String(npm.pid)], { stdio: 'ignore' });
      npm.kill('SIGKILL');
    }
  }, 60_000);
});

describe('shutdown with a request that is never finished', () => {
  it('given a client that sent half its body and waits, when SIGTERM arrives, then its connection is cut at the grace and the process still exits 0 within the bound', async () => {
    const service = await startServiceProcess(env('half-sent'));
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(service.baseUrl).port) });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"customerId"',
    );
    await new Promise((r) => setTimeout(r, 200));

    const signalledAt = Date.now();
    service.child.kill('SIGTERM');
    const exit = await service.exited;
    await closed;
    expect(exit.code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(service.logs.some((l) => typeof l === 'object' && l.msg === 'stopped')).toBe(true);
  });
});

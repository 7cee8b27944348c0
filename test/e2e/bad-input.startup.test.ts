// Bad settings at start-up: one line naming the variable and the cause, exit 1, no stack trace, and
// never a credential echoed back. Real processes, as `npm start` runs them.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';

const ROOT = new URL('../..', import.meta.url).pathname;

/** Runs the service with `env` until it exits; what it printed on stdout and stderr, and its exit code. */
const runService = (env: Record<string, string>): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: '0',
        EVENTSTORE_URL: 'sqlite::memory:',
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: uniqueRedisPrefix('startup-bad'),
        ROLE: 'api',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after 20 s: ${output}`));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });

/** The one `sluice: …` line; fails the test if there is another line on stderr-like output with a stack. */
const exitLine = (output: string): string => {
  expect(output).not.toMatch(/^\s+at /m);
  const lines = output.split('\n').filter((line) => line.startsWith('sluice: '));
  expect(lines, output).toHaveLength(1);
  return lines[0]!;
};

describe.concurrent('a variable that carries credentials is never echoed with them', () => {
  it.each([
    ['EVENTSTORE_URL', { EVENTSTORE_URL: 'esdbx://admin:EsdbPw789@h' }, 'EsdbPw789'],
    ['EVENTSTORE_URL (a password with @)', { EVENTSTORE_URL: 'esdbx://admin:Esdb@Pw789@h' }, 'Pw789'],
    [
      'EVENTSTORE_URL (an option the client refuses)',
      { EVENTSTORE_URL: 'esdb://admin:Opt1onPw@h:2113?tls=maybe' },
      'Opt1onPw',
    ],
    ['EVENTSTORE_URL (a port out of range)', { EVENTSTORE_URL: 'esdb://admin:P0rtPw@h:99999' }, 'P0rtPw'],
    ['EVENTSTORE_URL (a password with /)', { EVENTSTORE_URL: 'esdbx://admin:Pa/ss789@h' }, 'ss789'],
    ['EVENTSTORE_URL (a password with # and ?)', { EVENTSTORE_URL: 'esdbx://admin:Pa#s?s789@h' }, 's789'],
    ['REDIS_URL', { REDIS_URL: 'redis://app:Hunter2Pw@' }, 'Hunter2Pw'],
    [
      'REDIS_CLUSTER_NODES (no scheme)',
      { REDIS_URL: '', REDIS_CLUSTER_NODES: 'u:Secret789@a:7000,u:Secret789@b:notaport' },
      'Secret789',
    ],
    [
      'REDIS_CLUSTER_NODES',
      { REDIS_URL: '', REDIS_CLUSTER_NODES: 'redis://app:Hunter2Pw@a:7000,redis://app:Hunter2Pw@b' },
      'Hunter2Pw',
    ],
    [
      'REDIS_SENTINELS',
      {
        REDIS_URL: '',
        REDIS_SENTINELS: 'redis://app:Hunter2Pw@a:26379,redis://app:Hunter2Pw@b',
        REDIS_SENTINEL_MASTER: 'm',
      },
      'Hunter2Pw',
    ],
    ['ADMIN_TOKEN (too short)', { ADMIN_TOKEN: 'Sh0rtSecret' }, 'Sh0rtSecret'],
    ['ADMIN_TOKEN (not ASCII)', { ADMIN_TOKEN: 'päss-wörd-0123456789' }, 'wörd'],
  ])(
    'given a bad %s, then one line names the variable, without the secret, and exit 1',
    async (name, env, secret) => {
      const { code, output } = await runService(env as Record<string, string>);
      expect(code).toBe(1);
      const line = exitLine(output);
      expect(line).toContain(`invalid ${name.split(' ')[0]}`);
      expect(output).not.toContain(secret);
    },
  );
});

describe.concurrent('the admin token is checked at start-up', () => {
  it.each([
    ['shorter than 16 characters', 'abcdefghijklmno', 'at least 16 characters'],
    ['with whitespace', 'abcdefgh ijklmnopq', 'whitespace'],
    ['with a trailing newline', 'abcdefghijklmnopq\n', 'whitespace'],
  ])('given an ADMIN_TOKEN %s, then exit 1 with one line naming ADMIN_TOKEN', async (_, token, reason) => {
    const { code, output } = await runService({ ADMIN_TOKEN: token });
    expect(code).toBe(1);
    const line = exitLine(output);
    expect(line).toContain('ADMIN_TOKEN');
    expect(line).toContain(reason);
    expect(output).not.toContain(token.trim());
  });
});

describe.concurrent('listening fails', () => {
  let taken: Server;
  let takenPort: number;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    takenPort = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it('given a PORT in use, then one line names PORT and EADDRINUSE, exit 1', async () => {
    const { code, output } = await runService({ PORT: String(takenPort), HOST: '127.0.0.1' });
    expect(code).toBe(1);
    const line = exitLine(output);
    expect(line).toContain(`PORT=${takenPort}`);
    expect(line).toContain('EADDRINUSE');
  });

  it.each([
    ['a name that does not resolve', 'no-such-host.invalid', /ENOTFOUND|EAI_AGAIN/],
    ['an address of another machine', '203.0.113.7', /EADDRNOTAVAIL/],
  ])('given a HOST that is %s, then one line names HOST and the cause, exit 1', async (_, host, cause) => {
    const { code, output } = await runService({ HOST: host });
    expect(code).toBe(1);
    const line = exitLine(output);
    expect(line).toContain(`HOST="${host}"`);
    expect(line).toMatch(cause);
  });
});

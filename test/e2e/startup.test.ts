import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

const start = (env: Record<string, string>, script = 'src/main.ts') =>
  spawnSync(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });

describe('start-up with a bad configuration', () => {
  it.each([
    ['PORT', 'not-a-port'],
    ['EVENTSTORE_URL', 'mysql://db'],
    ['ROLE', 'boss'],
  ])('given %s=%s, then the process exits 1 with one line naming the variable', (variable, value) => {
    const result = start({ [variable]: value, REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(variable);
    expect(result.stdout).not.toContain('sluice listening');
  });
});

describe('start-up with conflicting domain modules', () => {
  it('given two modules that claim one event type, then the process exits 1 with one line naming the type and both modules', () => {
    const result = start(
      { REDIS_URL: 'redis://127.0.0.1:1', PORT: '0' },
      'test/support/inventory/conflicting-main.ts',
    );
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toEqual([
      'sluice: event type OrderPlaced is claimed by module orders and by module squatter',
    ]);
    expect(result.stdout).not.toContain('sluice listening');
  });
});

// The service's last log lines ("stopped") must reach stdout before it exits, even behind a burst of others.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

/** A child that logs `burst` lines, then 'the last line', flushes and exits at once; answers what it printed. */
const runChild = (burst: number) =>
  new Promise<string[]>((resolve, reject) => {
    const script = `
      import { createLogger, stdoutDestination } from './src/ops/logger.ts';
      const logs = stdoutDestination();
      const log = createLogger('info', logs);
      for (let i = 0; i < ${burst}; i++) log.info({ i, padding: 'x'.repeat(200) }, 'burst');
      log.info('the last line');
      await logs.flush(5000);
      process.exit(0);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', () => resolve(out.split('\n').filter(Boolean)));
  });

describe('logs at exit', () => {
  it('given a burst of lines still being written, when the process flushes and exits, then every line is out, the last one included', async () => {
    const lines = await runChild(20_000);
    expect(lines).toHaveLength(20_001);
    expect(JSON.parse(lines.at(-1)!).msg).toBe('the last line');
  }, 30_000);
});

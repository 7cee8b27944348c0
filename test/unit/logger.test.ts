import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from '../../src/ops/logger';

describe('no secrets in log lines', () => {
  it.each([
    ['redis://:s3cret@redis:6379', 'redis://:***@redis:6379'],
    ['redis://user:s3cret@redis:6379/0', 'redis://user:***@redis:6379/0'],
    ['esdb://admin:changeit@n1:2113,n2:2113?tls=true', 'esdb://admin:***@n1:2113,n2:2113?tls=true'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['sqlite:./data/events.sqlite', 'sqlite:./data/events.sqlite'],
  ])('given %s, when it is logged, then its password is masked', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });

  it('given an authorization header or the admin token in a log call, then the line carries neither', () => {
    const lines: string[] = [];
    const log = createLogger(
      'info',
      new Writable({
        write: (chunk, _encoding, done) => {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    log.info(
      { req: { headers: { authorization: 'Bearer top-secret' } }, config: { adminToken: 'admin-secret' } },
      'x',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('top-secret');
    expect(lines[0]).not.toContain('admin-secret');
    expect(lines[0]).toContain('***');
  });
});

import { describe, expect, it } from 'vitest';
import { redactCredentials, redactMessage } from '../../src/redact';

describe('redactCredentials', () => {
  it.each([
    ['redis://app:Hunter2@h:6379/0', 'redis://app:***@h:6379/0'],
    ['esdbx://admin:Pa/ss789@h', 'esdbx://admin:***@h'],
    ['esdbx://admin:Pa#s?s@789@h?tls=false', 'esdbx://admin:***@h?tls=false'],
    ['redis://secret@h', 'redis://:***@h'],
    ['redis://h:6379', 'redis://h:6379'],
    ['nodes a:7000,u:Secret789@b:7000', 'nodes a:7000,u:***@b:7000'],
    ['REDIS_CLUSTER_NODES=u:Secret789@b:7000', 'REDIS_CLUSTER_NODES=u:***@b:7000'],
    ['"redis://u:p@h" and rediss://v:q@k', '"redis://u:***@h" and rediss://v:***@k'],
    ['mail ops@example.com', 'mail ops@example.com'],
  ])('%s → %s', (text, shown) => {
    expect(redactCredentials(text)).toBe(shown);
  });
});

describe('redactMessage', () => {
  it('masks a password of the value wherever the message quotes it, percent-encoded or not', () => {
    const value = 'redis://u:p%40ss word@h';
    expect(redactMessage('cannot parse "p@ss word" in it', value)).not.toContain('p@ss');
  });
});

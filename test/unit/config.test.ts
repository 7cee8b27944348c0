import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

describe('configuration from the environment', () => {
  it('given nothing set, then the defaults of API.md apply', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      eventStoreUrl: 'sqlite:./data/events.sqlite',
      redisUrl: undefined,
      redisPrefix: 'sluice:',
      role: 'all',
      adminToken: undefined,
      consistencyTimeoutMs: 2000,
      projectionLeaseTtlMs: 5000,
      logLevel: 'info',
    });
  });

  it('given every variable, then each is read', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      EVENTSTORE_URL: 'esdb://localhost:2113?tls=false',
      REDIS_URL: 'redis://redis:6379',
      REDIS_PREFIX: 'p:',
      ROLE: 'projector',
      ADMIN_TOKEN: 'secret',
      CONSISTENCY_TIMEOUT_MS: '500',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      eventStoreUrl: 'esdb://localhost:2113?tls=false',
      redisUrl: 'redis://redis:6379',
      redisPrefix: 'p:',
      role: 'projector',
      adminToken: 'secret',
      consistencyTimeoutMs: 500,
      logLevel: 'debug',
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '3.5'],
    ['EVENTSTORE_URL', 'mysql://localhost/db'],
    ['EVENTSTORE_URL', 'sqlite:'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['ROLE', 'boss'],
    ['CONSISTENCY_TIMEOUT_MS', '-1'],
    ['CONSISTENCY_TIMEOUT_MS', 'soon'],
    ['LOG_LEVEL', 'loud'],
    ['PROJECTION_LEASE_TTL_MS', '100'],
  ])('given %s=%s, then one ConfigError names the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^invalid ${variable}=`));
  });
});

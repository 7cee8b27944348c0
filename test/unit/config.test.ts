import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

describe('configuration from the environment', () => {
  it('given nothing set, then the defaults of the README apply', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      eventStoreUrl: 'sqlite:./data/events.sqlite',
      redis: undefined,
      redisReadFrom: 'primary',
      redisPrefix: 'sluice:',
      role: 'all',
      adminToken: undefined,
      consistencyTimeoutMs: 2000,
      liveHeartbeatMs: 15000,
      acceptableLagMs: {},
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
      ADMIN_TOKEN: 'secret-token-0123456789',
      CONSISTENCY_TIMEOUT_MS: '500',
      LIVE_HEARTBEAT_MS: '250',
      ACCEPTABLE_LAG_MS: 'order-view=2500, daily-revenue=90000',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      eventStoreUrl: 'esdb://localhost:2113?tls=false',
      redis: { kind: 'single', url: 'redis://redis:6379' },
      redisPrefix: 'p:',
      role: 'projector',
      adminToken: 'secret-token-0123456789',
      consistencyTimeoutMs: 500,
      liveHeartbeatMs: 250,
      acceptableLagMs: { 'order-view': 2500, 'daily-revenue': 90000 },
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
    ['LIVE_HEARTBEAT_MS', '0'],
    ['ACCEPTABLE_LAG_MS', 'order-view'],
    ['ACCEPTABLE_LAG_MS', 'order-view=soon'],
    ['LOG_LEVEL', 'loud'],
    ['PROJECTION_LEASE_TTL_MS', '100'],
  ])('given %s=%s, then one ConfigError names the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^invalid ${variable}=`));
  });
});

describe('Redis topology from the environment', () => {
  it('given REDIS_CLUSTER_NODES as host:port entries, then the topology is a cluster of those seeds without credentials', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-2:7001,[::1]:7002' }).redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      auth: { tls: false },
    });
  });

  it('given URL entries with credentials and TLS, then every node gets them (discovered ones too)', () => {
    const config = loadConfig({
      REDIS_CLUSTER_NODES: 'rediss://app:s%40cret@n1:6380,n2:6380',
      REDIS_READ_FROM: 'replica',
    });
    expect(config.redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 6380 },
        { host: 'n2', port: 6380 },
      ],
      auth: { username: 'app', password: 's@cret', tls: true },
    });
    expect(config.redisReadFrom).toBe('replica');
  });

  it('given REDIS_SENTINELS and REDIS_SENTINEL_MASTER, then the topology is Sentinel', () => {
    expect(
      loadConfig({ REDIS_SENTINELS: 's1:26379,s2:26379,s3:26379', REDIS_SENTINEL_MASTER: 'mymaster' }).redis,
    ).toEqual({
      kind: 'sentinel',
      masterName: 'mymaster',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
        { host: 's3', port: 26379 },
      ],
      auth: { tls: false },
    });
  });

  it.each([
    [
      { REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' },
      'REDIS_CLUSTER_NODES',
      /REDIS_URL is set too/,
    ],
    [
      { REDIS_URL: 'redis://a:6379', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'm' },
      'REDIS_SENTINELS',
      /only one of/,
    ],
    [{ REDIS_SENTINELS: 's:26379,t:26379' }, 'REDIS_SENTINEL_MASTER', /must name the master/],
    [{ REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_SENTINEL_MASTER', /needs REDIS_SENTINELS/],
    [{ REDIS_CLUSTER_NODES: 'a:7000,b' }, 'REDIS_CLUSTER_NODES', /"b" is not host:port/],
    [{ REDIS_CLUSTER_NODES: 'a:0' }, 'REDIS_CLUSTER_NODES', /no valid port/],
    [{ REDIS_CLUSTER_NODES: 'a:7000,,b:7000' }, 'REDIS_CLUSTER_NODES', /an entry is empty/],
    [{ REDIS_CLUSTER_NODES: 'http://a:7000' }, 'REDIS_CLUSTER_NODES', /not host:port or a redis/],
    [{ REDIS_CLUSTER_NODES: 'redis://a:7000/0' }, 'REDIS_CLUSTER_NODES', /nothing after the port/],
    [{ REDIS_CLUSTER_NODES: 'a:7000,a:7000' }, 'REDIS_CLUSTER_NODES', /listed twice/],
    [
      { REDIS_CLUSTER_NODES: 'redis://u:p@a:7000,redis://u:q@b:7000' },
      'REDIS_CLUSTER_NODES',
      /disagree on credentials/,
    ],
    [{ REDIS_SENTINELS: 'sentinel-1', REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_SENTINELS', /not host:port/],
    [{ REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'a b' }, 'REDIS_SENTINEL_MASTER', /master name/],
    [{ REDIS_READ_FROM: 'secondary' }, 'REDIS_READ_FROM', /primary or replica/],
    [{ REDIS_PREFIX: 'app{1}:' }, 'REDIS_PREFIX', /must not contain \{ or \}/],
    [{ REDIS_URL: 'redis://' }, 'REDIS_URL', /redis:\/\/host:port/],
  ])('given %o, then one ConfigError names %s', (env, variable, reason) => {
    const error = (() => {
      try {
        loadConfig(env);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(new RegExp(`^invalid ${variable}=`));
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message.split('\n')).toHaveLength(1);
  });

  it.each(['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'])(
    'given a bad %s that carries a password, then the error line never prints the password',
    (variable) => {
      const value =
        variable === 'REDIS_URL'
          ? 'redis://app:Hunter2Pw@'
          : 'redis://app:Hunter2Pw@a:7000,redis://app:Hunter2Pw@b';
      const env = {
        [variable]: value,
        ...(variable === 'REDIS_SENTINELS' ? { REDIS_SENTINEL_MASTER: 'm' } : {}),
      };
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).not.toThrow(/Hunter2Pw/);
      expect(() => loadConfig(env)).toThrow(/app:\*\*\*@/);
    },
  );
});

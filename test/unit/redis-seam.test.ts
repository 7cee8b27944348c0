import calculateSlot from 'cluster-key-slot';
import { ClientOfflineError, DisconnectsClientError, ErrorReply, SocketClosedUnexpectedlyError } from 'redis';
import { describe, expect, it } from 'vitest';
import { orderProjections as allProjections } from '../../src/orders';
import { readModelKeys } from '../../src/readmodel';
import {
  evictionProblem,
  isRedisUnavailable,
  RedisDeadlineExceeded,
  redisFailureCause,
  versionProblem,
} from '../../src/redis';

describe('keys of one projection share one Redis Cluster hash slot', () => {
  it.each(allProjections.map((p) => p.name))(
    'given %s, then its pointers, lease, state, channel and generation keys are all in one slot',
    (name) => {
      const keys = readModelKeys('sluice:');
      const generation = keys.generation(name, 7);
      const all = [
        keys.active(name),
        keys.generationCounter(name),
        keys.rebuilding(name),
        keys.versions(name),
        keys.lease(name),
        keys.state(name),
        keys.notifications(name),
        generation.checkpoint,
        generation.streamVersions,
        generation.parked,
        generation.key('order:0b0d'),
        generation.key('customer:c-1:pending'),
      ];
      expect(new Set(all.map((key) => calculateSlot(key))).size).toBe(1);
    },
  );
});

describe('why a Redis call failed', () => {
  it.each([
    [new ErrorReply("OOM command not allowed when used memory > 'maxmemory'."), 'oom'],
    [new ErrorReply('NOAUTH Authentication required.'), 'noauth'],
    [new ErrorReply('WRONGPASS invalid username-password pair'), 'noauth'],
    [new ErrorReply("READONLY You can't write against a read only replica."), 'readonly'],
    [new ErrorReply("CROSSSLOT Keys in request don't hash to the same slot"), 'crossslot'],
    [new ErrorReply('MOVED 3999 127.0.0.1:6381'), 'moved'],
    [new ErrorReply('NOSCRIPT No matching script.'), 'noscript'],
    [new ClientOfflineError(), 'unavailable'],
    [new SocketClosedUnexpectedlyError(), 'unavailable'],
    [new DisconnectsClientError(), 'unavailable'],
    [new ErrorReply('CLUSTERDOWN The cluster is down'), 'unavailable'],
    [new ErrorReply('LOADING Redis is loading the dataset in memory'), 'unavailable'],
    [new RedisDeadlineExceeded('no answer'), 'unavailable'],
    [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }),
      'unavailable',
    ],
    [new ErrorReply('WRONGTYPE Operation against a key holding the wrong kind of value'), 'other'],
    [new TypeError('a bug'), 'other'],
  ])('given %s, then the cause is %s', (error, cause) => {
    expect(redisFailureCause(error)).toBe(cause);
    expect(isRedisUnavailable(error)).toBe(cause === 'unavailable' || cause === 'readonly');
  });
});

describe('what each primary says of itself', () => {
  const node = (evictionPolicy: string | undefined, version = '7.0.15') => ({
    address: '10.0.0.1:6379',
    evictionPolicy,
    version,
  });

  it('given noeviction everywhere (or a policy nobody can read), then no problem', () => {
    expect(evictionProblem([node('noeviction'), node(undefined)])).toBeUndefined();
  });

  it.each(['allkeys-lru', 'volatile-lru', 'allkeys-lfu', 'volatile-ttl', 'allkeys-random'])(
    'given %s on one node, then the problem names the node, the policy and the fix',
    (policy) => {
      expect(evictionProblem([node('noeviction'), { ...node(policy), address: '10.0.0.2:6380' }])).toBe(
        `Redis at 10.0.0.2:6380 has maxmemory-policy ${policy}: it may evict read models and checkpoints; ` +
          'set maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction, and in redis.conf)',
      );
    },
  );

  it('given a node older than 7.0, then the problem names it; 7.x and later pass', () => {
    expect(versionProblem([node('noeviction', '6.2.14')])).toMatch(
      /10\.0\.0\.1:6379 is 6\.2\.14; .*Redis 7\.0/,
    );
    expect(versionProblem([node('noeviction', '7.0.0'), node('noeviction', '8.2.1')])).toBeUndefined();
  });
});

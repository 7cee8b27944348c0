export type { RedisCommands, RedisMulti } from './commands.js';
export {
  isRedisUnavailable,
  NoReplicaAvailable,
  RedisDeadlineExceeded,
  type RedisFailureCause,
  redisFailureCause,
} from './errors.js';
export { openRedis, type RedisOptions } from './open.js';
export type { ReadConnection, Redis, RedisNode } from './redis.js';
export { anyKeyWithPrefix, globEscape, scanPrefix } from './scan.js';
export { luaScript, type RedisScript } from './scripts.js';
export {
  EvictionPolicyWatch,
  evictionProblem,
  MIN_REDIS_MAJOR,
  type NodeFacts,
  readNodeFacts,
  unknownPolicyNodes,
  versionProblem,
} from './server-checks.js';
export type { RedisSubscription, SubscriptionOptions } from './subscriber.js';
export {
  DEFAULT_REDIS_URL,
  describeTopology,
  parseNodeList,
  type ReadFrom,
  type RedisAuth,
  type RedisEndpoint,
  type RedisTopology,
} from './topology.js';

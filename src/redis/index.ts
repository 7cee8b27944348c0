export type { RedisCommands, RedisMulti } from './commands';
export {
  isRedisUnavailable,
  NoReplicaAvailable,
  RedisDeadlineExceeded,
  type RedisFailureCause,
  redisFailureCause,
} from './errors';
export { openRedis, type RedisOptions } from './open';
export type { ReadConnection, Redis, RedisNode } from './redis';
export { anyKeyWithPrefix, globEscape, scanPrefix } from './scan';
export { luaScript, type RedisScript } from './scripts';
export {
  EvictionPolicyWatch,
  evictionProblem,
  MIN_REDIS_MAJOR,
  type NodeFacts,
  readNodeFacts,
  unknownPolicyNodes,
  versionProblem,
} from './server-checks';
export type { RedisSubscription, SubscriptionOptions } from './subscriber';
export {
  DEFAULT_REDIS_URL,
  describeTopology,
  parseNodeList,
  type ReadFrom,
  type RedisAuth,
  type RedisEndpoint,
  type RedisTopology,
} from './topology';

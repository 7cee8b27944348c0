export { type PreparedBatch, readCheckpoint } from './apply-batch';
export { type Consistency, ReadModelAccess } from './consistency';
export {
  builtByVersion,
  readActiveGeneration,
  rebuildingGeneration,
  requestRebuild,
  unlinkGeneration,
} from './generations';
export { type ReadModelKeys, readModelKeys } from './keys';
export { NotificationHub } from './notification-hub';
export { listParked, type ParkedEvent, type ReplayOutcome, replayParked } from './parked';
export {
  defineProjection,
  generationPrefix,
  type ProjectedEvent,
  type Projection,
  type RedisWrite,
  recordWrites,
  WriteBatch,
} from './projection';
export { ProjectionRunner, type ProjectionRunnerOptions } from './projection-runner';
export { Projector, type ProjectorStats, type ProjectorStatus } from './projector';
export { UNLINK_GRACE_MS } from './rebuild';
export { connectRedis, createRedis, type RedisClient } from './redis';
export { type ProjectionStatus, ProjectionStatusReader, type ProjectionStatusRow } from './status';

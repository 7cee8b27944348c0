export { type PreparedBatch, readCheckpoint } from './apply-batch';
export {
  type Consistency,
  type ProjectionReadTarget,
  type ReadContext,
  ReadModelAccess,
  ReadRequest,
  type Requirement,
} from './consistency';
export {
  builtByVersion,
  readActiveGeneration,
  rebuildingGeneration,
  requestRebuild,
  unlinkGeneration,
} from './generations';
export { type ReadModelKeys, readModelKeys } from './keys';
export { NotificationHub } from './notification-hub';
export {
  type Direction,
  decodeCursor,
  encodeCursor,
  type ReadMulti,
  type ReadRedis,
  readSortedSetAfter,
  readSortedSetPage,
  type ScoredMember,
  type SortedSetPage,
} from './paging';
export { listParked, type ParkedEvent, ReplayNotServed, requestReplay } from './parked';
export {
  defineProjection,
  generationPrefix,
  type ProjectedEvent,
  type Projection,
  type RedisWrite,
  recordWrites,
  WriteBatch,
} from './projection';
export { ProjectionRunner, type ProjectionRunnerOptions, type RunnerFault } from './projection-runner';
export { Projector } from './projector';
export {
  ApplyPaused,
  type ProjectorFailureCause,
  type ProjectorOptions,
  type ProjectorStats,
  type ProjectorStatus,
} from './projector-options';
export { UNLINK_GRACE_MS } from './rebuild';
export type { ReplayOutcome } from './replay';
export { type ProjectionStatus, ProjectionStatusReader, type ProjectionStatusRow } from './status';
export { GenerationUntrusted, ReadModelStateLost, StoreBehindReadModel } from './untrusted';

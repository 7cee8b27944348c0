export { type PreparedBatch, readCheckpoint } from './apply-batch.js';
export {
  builtByVersion,
  readActiveGeneration,
  rebuildingGeneration,
  requestRebuild,
  unlinkGeneration,
} from './generations.js';
export { GENERATION_KEYS, type ReadModelKeys, readModelKeys } from './keys.js';
export { LiveViews, type ViewChanged } from './live-views.js';
export { NotificationHub } from './notification-hub.js';
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
} from './paging.js';
export { listParked, type ParkedEvent, ReplayNotServed, requestReplay } from './parked.js';
export {
  defineProjection,
  generationPrefix,
  type ProjectedEvent,
  type Projection,
  type RedisWrite,
  recordWrites,
  WriteBatch,
} from './projection.js';
export { ProjectionRunner, type ProjectionRunnerOptions, type RunnerFault } from './projection-runner.js';
export { Projector } from './projector.js';
export {
  ApplyPaused,
  type ProjectorFailureCause,
  type ProjectorOptions,
  type ProjectorStats,
  type ProjectorStatus,
} from './projector-options.js';
export { ReadModelAccess } from './read-model-access.js';
export {
  type Consistency,
  type ProjectionReadTarget,
  type ReadContext,
  ReadRequest,
  type Requirement,
} from './read-request.js';
export { UNLINK_GRACE_MS } from './rebuild.js';
export type { ReplayOutcome } from './replay.js';
export { type ProjectionStatus, ProjectionStatusReader, type ProjectionStatusRow } from './status.js';
export { GenerationUntrusted, ReadModelStateLost, StoreBehindReadModel } from './untrusted.js';

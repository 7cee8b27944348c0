import { generationPrefix, projectionKey } from './projection.js';

/**
 * Keys of the machinery inside a generation, relative to it (projections' own keys never start with `_`):
 * batches write some of them as ordinary writes, resolved against the generation like a handler's.
 */
export const GENERATION_KEYS = {
  checkpoint: '_checkpoint',
  streamVersions: '_streams',
  /**
   * Field of the stream-versions hash that repeats the checkpoint's `fault` (no stream is named ''), so a
   * read-your-writes check reads a stream's version and whether the generation is trusted in one HMGET.
   */
  streamVersionsFault: '',
  /** Redis stream of parked entries: events whose handler kept failing, the events held behind them, refused writes. */
  parked: '_parked',
  /** Hash: stream → position of its first parked event. Later events of that stream are held behind it. */
  parkedStreams: '_parked_streams',
  /** String: the id of a replay of parked events asked for and not done yet. */
  replayRequest: '_replay_request',
  /** Hash: what the replay with this id did (replayed, failed, remaining). */
  replayResult: (id: string) => `_replay_result:${id}`,
} as const;

/** Every Redis key the read-model machinery (not the projections themselves) uses, in one place. */
export const readModelKeys = (redisPrefix: string) => ({
  /**
   * Channel of a projection's notifications (new positions, generation flips). One per projection, in the
   * projection's hash slot: on a Cluster it is a sharded channel that stays in the projection's shard.
   */
  notifications: (projection: string) => projectionKey(redisPrefix, projection, 'notifications'),
  active: (projection: string) => projectionKey(redisPrefix, projection, 'active'),
  /** Last generation number handed out; a rebuild takes the next one, so numbers are never reused. */
  generationCounter: (projection: string) => projectionKey(redisPrefix, projection, 'generations'),
  rebuilding: (projection: string) => projectionKey(redisPrefix, projection, 'rebuilding'),
  /** Hash: the code version that built each generation (`g<n>` → version). */
  versions: (projection: string) => projectionKey(redisPrefix, projection, 'built-by'),
  lease: (projection: string) => projectionKey(redisPrefix, projection, 'lease'),
  /** Hash the lease holder refreshes on every tick: status, lastError, at. Expires with the holder. */
  state: (projection: string) => projectionKey(redisPrefix, projection, 'state'),
  generation: (projection: string, generation: number) => {
    const base = generationPrefix(redisPrefix, projection, generation);
    return {
      base,
      /** Hash: position (checkpoint), recordedAt of the newest applied event (ms), appliedAt (ms). */
      checkpoint: base + GENERATION_KEYS.checkpoint,
      /**
       * Hash: stream → revision of the newest event of that stream this generation applied; and, once the
       * generation is untrusted, the checkpoint's `fault` again under GENERATION_KEYS.streamVersionsFault.
       */
      streamVersions: base + GENERATION_KEYS.streamVersions,
      parked: base + GENERATION_KEYS.parked,
      parkedStreams: base + GENERATION_KEYS.parkedStreams,
      replayRequest: base + GENERATION_KEYS.replayRequest,
      replayResult: (id: string) => base + GENERATION_KEYS.replayResult(id),
      key: (relative: string) => base + relative,
    };
  },
});

export type ReadModelKeys = ReturnType<typeof readModelKeys>;

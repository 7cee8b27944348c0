import { generationPrefix, projectionKey } from './projection';

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
      checkpoint: `${base}_checkpoint`,
      /** Hash: stream → revision of the newest event of that stream this generation applied. */
      streamVersions: `${base}_streams`,
      /** Redis stream of events whose handler kept failing. */
      parked: `${base}_parked`,
      key: (relative: string) => base + relative,
    };
  },
});

export type ReadModelKeys = ReturnType<typeof readModelKeys>;

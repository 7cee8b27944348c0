import type { EventStore } from '../eventstore';
import { readCheckpoint } from './apply-batch';
import { readActiveGeneration, rebuildingGeneration } from './generations';
import type { ReadModelKeys } from './keys';
import type { Projection } from './projection';
import type { ProjectionRunner } from './projection-runner';
import type { RedisClient } from './redis';

export type ProjectionStatus = 'running' | 'catching-up' | 'rebuilding' | 'stopped' | 'faulted';

export interface ProjectionStatusRow {
  name: string;
  version: number;
  generation: number;
  status: ProjectionStatus;
  checkpoint: string;
  headPosition: string;
  /** Head position minus checkpoint (a count of events on the embedded store, where positions are dense). */
  lagEvents: number;
  /** How old the newest applied event is while the projection is behind; 0 when caught up. */
  lagMs: number;
  parked: number;
  /** While a rebuild runs: the generation being built and how far it got. */
  rebuildGeneration?: number;
  rebuildCheckpoint?: string;
  lastError?: string;
}

/** Reads each projection's state from Redis, so any process (api, projector, CLI) answers the same. */
export class ProjectionStatusReader {
  constructor(
    private readonly deps: {
      redis: RedisClient;
      keys: ReadModelKeys;
      store: EventStore;
      projections: readonly Projection[];
      runners?: ProjectionRunner[];
    },
  ) {}

  get projections(): readonly Projection[] {
    return this.deps.projections;
  }

  async list(): Promise<ProjectionStatusRow[]> {
    const head = await this.deps.store.headPosition();
    return Promise.all(this.deps.projections.map((projection) => this.row(projection, head)));
  }

  async row(projection: Projection, head?: bigint): Promise<ProjectionStatusRow> {
    const { redis, keys } = this.deps;
    const headPosition = head ?? (await this.deps.store.headPosition());
    const generation = await readActiveGeneration(redis, keys, projection.name);
    const [checkpoint, rebuilding, state, parked] = await Promise.all([
      readCheckpoint(redis, keys, projection.name, generation),
      rebuildingGeneration(redis, keys, projection.name),
      redis.hGetAll(keys.state(projection.name)),
      redis.xLen(keys.generation(projection.name, generation).parked),
    ]);
    const rebuildCheckpoint =
      rebuilding === undefined ? undefined : await readCheckpoint(redis, keys, projection.name, rebuilding);
    const behind = headPosition > checkpoint.position;
    const running = state.status as ProjectionStatus | undefined;
    const status: ProjectionStatus =
      running === undefined
        ? 'stopped'
        : running === 'faulted'
          ? 'faulted'
          : rebuilding !== undefined
            ? 'rebuilding'
            : behind
              ? 'catching-up'
              : 'running';
    return {
      name: projection.name,
      version: projection.version,
      generation,
      status,
      checkpoint: String(checkpoint.position),
      headPosition: String(headPosition),
      lagEvents: behind ? Number(headPosition - checkpoint.position) : 0,
      lagMs:
        behind && checkpoint.recordedAt !== undefined ? Math.max(0, Date.now() - checkpoint.recordedAt) : 0,
      parked,
      ...(rebuilding === undefined
        ? {}
        : { rebuildGeneration: rebuilding, rebuildCheckpoint: String(rebuildCheckpoint?.position ?? 0n) }),
      ...(state.lastError ? { lastError: state.lastError } : {}),
    };
  }

  /** Figures for /metrics: the rows plus what this process applied. */
  async metrics() {
    const rows = await this.list();
    return rows.map((row) => {
      const runner = this.deps.runners?.find((r) => r.name === row.name);
      const main = runner?.projectors.main;
      return {
        name: row.name,
        checkpoint: BigInt(row.checkpoint),
        lagEvents: BigInt(row.lagEvents),
        lagMs: row.lagMs,
        applied: main?.stats.applied ?? 0,
        parked: row.parked,
      };
    });
  }
}

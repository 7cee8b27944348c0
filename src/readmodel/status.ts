import type { EventStore } from '../eventstore/index.js';
import type { Redis } from '../redis/index.js';
import { readCheckpoint } from './apply-batch.js';
import { readActiveGeneration, rebuildingGeneration } from './generations.js';
import type { ReadModelKeys } from './keys.js';
import { DEFAULT_ACCEPTABLE_LAG_MS, type Projection } from './projection.js';
import type { ProjectionRunner } from './projection-runner.js';

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
  /** The lag the projection accepts (its definition, or ACCEPTABLE_LAG_MS). */
  acceptableLagMs: number;
  /** lagMs is over acceptableLagMs: /ready names the projection (and stays 200). */
  overAcceptableLag: boolean;
  parked: number;
  /** While a rebuild runs: the generation being built and how far it got. */
  rebuildGeneration?: number;
  rebuildCheckpoint?: string;
  lastError?: string;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Reads each projection's state from Redis, so any process (api, projector, CLI) answers the same. A
 * projection whose state cannot be read (its Cluster node is down) is `faulted` with the reason, and the
 * runners of this process add what they know (a fault Redis could not be told about).
 */
export class ProjectionStatusReader {
  constructor(
    private readonly deps: {
      redis: Redis;
      keys: ReadModelKeys;
      store: EventStore;
      projections: readonly Projection[];
      runners?: ProjectionRunner[];
      /** ACCEPTABLE_LAG_MS: per projection, over its definition's. */
      acceptableLagMs?: Readonly<Record<string, number>>;
    },
  ) {}

  /** The lag a projection accepts: ACCEPTABLE_LAG_MS, else its definition, else the default. */
  acceptableLagOf(projection: Projection): number {
    return (
      this.deps.acceptableLagMs?.[projection.name] ?? projection.acceptableLagMs ?? DEFAULT_ACCEPTABLE_LAG_MS
    );
  }

  get projections(): readonly Projection[] {
    return this.deps.projections;
  }

  async list(): Promise<ProjectionStatusRow[]> {
    const head = await this.deps.store.headPosition();
    return Promise.all(this.deps.projections.map((projection) => this.row(projection, head)));
  }

  async row(projection: Projection, head?: bigint): Promise<ProjectionStatusRow> {
    const headPosition = head ?? (await this.deps.store.headPosition());
    const row = await this.fromRedis(projection, headPosition).catch(
      (error: unknown): ProjectionStatusRow => ({
        name: projection.name,
        version: projection.version,
        generation: 0,
        status: 'faulted',
        checkpoint: '0',
        headPosition: String(headPosition),
        lagEvents: 0,
        lagMs: 0,
        acceptableLagMs: this.acceptableLagOf(projection),
        overAcceptableLag: false,
        parked: 0,
        lastError: `its state cannot be read from Redis: ${messageOf(error)}`,
      }),
    );
    const fault = this.deps.runners?.find((runner) => runner.name === projection.name)?.fault;
    return fault === undefined ? row : { ...row, status: 'faulted', lastError: fault.message };
  }

  private async fromRedis(projection: Projection, headPosition: bigint): Promise<ProjectionStatusRow> {
    const { redis, keys } = this.deps;
    const generation = await readActiveGeneration(redis, keys, projection.name);
    const [checkpoint, rebuilding, state, parked] = await Promise.all([
      readCheckpoint(redis, keys, projection.name, generation),
      rebuildingGeneration(redis, keys, projection.name),
      redis.primary.hGetAll(keys.state(projection.name)),
      redis.primary.xLen(keys.generation(projection.name, generation).parked),
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
    const lagMs =
      behind && checkpoint.recordedAt !== undefined ? Math.max(0, Date.now() - checkpoint.recordedAt) : 0;
    const acceptableLagMs = this.acceptableLagOf(projection);
    return {
      name: projection.name,
      version: projection.version,
      generation,
      status,
      checkpoint: String(checkpoint.position),
      headPosition: String(headPosition),
      lagEvents: behind ? Number(headPosition - checkpoint.position) : 0,
      lagMs,
      acceptableLagMs,
      overAcceptableLag: lagMs > acceptableLagMs,
      parked,
      ...(rebuilding === undefined
        ? {}
        : { rebuildGeneration: rebuilding, rebuildCheckpoint: String(rebuildCheckpoint?.position ?? 0n) }),
      ...(state.lastError ? { lastError: state.lastError } : {}),
    };
  }

  /**
   * The projections that cannot run now, with why: what this process's runners know, else the state the
   * lease holder published, else that the state cannot be read (for /ready; no event-store call).
   */
  async faults(): Promise<Array<{ name: string; message: string }>> {
    const { redis, keys, runners } = this.deps;
    const found = await Promise.all(
      this.deps.projections.map(async ({ name }) => {
        const local = runners?.find((runner) => runner.name === name)?.fault;
        if (local !== undefined) return { name, message: local.message };
        try {
          const [status, lastError] = await redis.primary.hmGet(keys.state(name), ['status', 'lastError']);
          return status === 'faulted' ? { name, message: lastError || 'faulted' } : undefined;
        } catch (error) {
          return { name, message: `its state cannot be read from Redis: ${messageOf(error)}` };
        }
      }),
    );
    return found.filter((fault) => fault !== undefined);
  }

  /** The projections behind by more than they accept, with how much (for /ready; it stays 200). */
  async overAcceptableLag(): Promise<Array<{ name: string; lagMs: number; acceptableLagMs: number }>> {
    const rows = await this.list();
    return rows
      .filter((row) => row.overAcceptableLag)
      .map(({ name, lagMs, acceptableLagMs }) => ({ name, lagMs, acceptableLagMs }));
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
        acceptableLagMs: row.acceptableLagMs,
        applied: main?.stats.applied ?? 0,
        parked: row.parked,
        faulted: row.status === 'faulted',
      };
    });
  }
}

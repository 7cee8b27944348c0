import { processMemory } from './machine';
import { spawnNode } from './processes';
import { BENCH_REDIS_URL } from './redis';

export type Line = Record<string, unknown>;

export interface CatchUpRun {
  lines: Line[];
  peakRssBytes: number;
  /** VmRSS every `sampleEveryMs` while the worker ran: [ms since start, bytes]. */
  rssSamples: Array<[number, number]>;
}

/** Runs bench/workers/catch-up.ts on a store and waits for it to finish (bounded by `timeoutMs`). */
export const runCatchUpWorker = async (options: {
  storePath: string;
  prefix: string;
  projections: string[];
  mode: 'projector' | 'rebuild' | 'read-only';
  /** Events per atomic apply; undefined = the projector's default. */
  batchSize?: number;
  /** rebuild mode: how many times the one-projection rebuild runs. */
  repeat?: number;
  nodeArgs?: string[];
  timeoutMs?: number;
  sampleEveryMs?: number;
  /** Where Redis is, as the service's variables say it (default REDIS_URL of the bench's Redis). */
  redisEnv?: Record<string, string>;
}): Promise<CatchUpRun> => {
  const timeoutMs = options.timeoutMs ?? 900_000;
  const worker = spawnNode('bench/workers/catch-up.ts', {
    env: {
      BENCH_STORE: options.storePath,
      BENCH_MODE: options.mode,
      BENCH_PROJECTIONS: options.projections.join(','),
      BENCH_TIMEOUT_MS: String(timeoutMs),
      ...(options.redisEnv ?? { REDIS_URL: BENCH_REDIS_URL }),
      REDIS_PREFIX: options.prefix,
      ...(options.batchSize ? { BENCH_BATCH_SIZE: String(options.batchSize) } : {}),
      ...(options.repeat ? { BENCH_REPEAT: String(options.repeat) } : {}),
    },
    nodeArgs: options.nodeArgs ?? [],
  });
  const started = Date.now();
  const rssSamples: Array<[number, number]> = [];
  const sampler = setInterval(() => {
    const memory = processMemory(worker.pid);
    if (memory) rssSamples.push([Date.now() - started, memory.rss]);
  }, options.sampleEveryMs ?? 250);
  try {
    const last = await worker.waitForLine((line) => line.msg === 'done' || line.msg === 'failed', timeoutMs);
    if (last.msg === 'failed') throw new Error(`catch-up worker failed: ${String(last.error)}`);
    const exit = await worker.exited;
    if (exit.code !== 0) throw new Error(`catch-up worker exited with ${exit.code ?? exit.signal}`);
    return { lines: worker.lines(), peakRssBytes: Number(last.peakRssBytes), rssSamples };
  } finally {
    clearInterval(sampler);
    await worker.stop('SIGKILL', 1000);
  }
};

/** CPU used between two progress lines as a share of the wall time: this process's (of one core) and Redis's. */
export const cpuBetween = (from: Line | undefined, to: Line | undefined, wallMs: number) => {
  const share = (field: string) =>
    from && to ? `${((100 * (Number(to[field]) - Number(from[field]))) / wallMs).toFixed(0)} %` : 'n/a';
  return { 'projector CPU': share('cpuMs'), 'Redis CPU': share('redisCpuMs') };
};

// A child process that projects a prefilled store into Redis and reports timings as JSON lines, so the
// bench process can watch its memory (/proc/<pid>/status) and profile it (--cpu-prof) on its own.
//
// BENCH_MODE=projector: one Projector per listed projection, fresh generation, lease held; times each
//   from start until its checkpoint reaches the head.
// BENCH_MODE=read-only: only reads the store as a projector would (subscribeAll from the start with the
//   projections' filter, upcast each event) and writes nothing: the read side's own ceiling.
// BENCH_MODE=rebuild: one ProjectionRunner per projection (as the service runs them); waits until the
//   active generation is caught up, then asks for a rebuild and times it until the new generation is active.

import { loadConfig } from '../../src/config';
import { SqliteEventStore } from '../../src/eventstore/sqlite';
import { orderProjections as allProjections, upcastOrderEvent } from '../../src/orders';
import {
  type Projection,
  ProjectionRunner,
  Projector,
  readActiveGeneration,
  readCheckpoint,
  readModelKeys,
  requestRebuild,
} from '../../src/readmodel';
import { Lease } from '../../src/readmodel/lease';
import { DEFAULT_REDIS_URL, openRedis } from '../../src/redis';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
};
const emit = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const clock = () => performance.now();

const store = SqliteEventStore.open(env('BENCH_STORE'));
// The service's own variables choose the topology: REDIS_URL, or REDIS_CLUSTER_NODES, or REDIS_SENTINELS.
const redis = openRedis(loadConfig().redis ?? { kind: 'single', url: DEFAULT_REDIS_URL });
const keys = readModelKeys(env('REDIS_PREFIX'));
const names = env('BENCH_PROJECTIONS').split(',');
const projections = names.map((name) => {
  const projection = allProjections.find((p) => p.name === name);
  if (!projection) throw new Error(`unknown projection ${name}`);
  return projection;
});
const timeoutMs = Number(process.env.BENCH_TIMEOUT_MS ?? 600_000);
/** Events per atomic apply; unset = the projector's default (what the service runs with). */
const batchSize = process.env.BENCH_BATCH_SIZE ? { batchSize: Number(process.env.BENCH_BATCH_SIZE) } : {};

/**
 * CPU time of Redis's main threads so far, summed over the primaries (shared Redis: others' load counts
 * too, so read it as an estimate).
 */
const redisCpuMs = async (): Promise<number> => {
  let total = 0;
  for (const node of await redis.primaries()) {
    const info = String(await node.send(['INFO', 'cpu']));
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
    total += (field('used_cpu_user_main_thread') + field('used_cpu_sys_main_thread')) * 1000;
  }
  return total;
};

/** A progress line with this process's CPU time and Redis's, so the bench can tell who was the bottleneck. */
const mark = async (line: Record<string, unknown>) =>
  emit({ ...line, cpuMs: cpuMs(), redisCpuMs: await redisCpuMs().catch(() => NaN) });

/** Resolves when `reached()` holds, checking every 5 ms; throws after the bench's time bound. */
const until = async (reached: () => boolean | Promise<boolean>, what: string): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await reached())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
};

const projectFromScratch = async (projection: Projection, head: bigint, started: number) => {
  const lease = new Lease(redis, keys.lease(projection.name), 60_000);
  if (!(await lease.acquireOrRenew())) throw new Error(`lease of ${projection.name} is taken`);
  const renew = setInterval(() => void lease.acquireOrRenew().catch(() => {}), 10_000);
  const projector = new Projector({
    projection,
    generation: 1,
    store,
    redis,
    keys,
    leaseToken: () => lease.token,
    upcast: upcastOrderEvent,
    ...batchSize,
  }).start();
  try {
    await until(() => projector.stats.checkpoint >= head, `${projection.name} to reach ${head}`);
    const ms = clock() - started;
    const { applied, batches, parked, errors } = projector.stats;
    await mark({ msg: 'caught-up', projection: projection.name, ms, applied, batches, parked, errors });
  } finally {
    await projector.stop();
    clearInterval(renew);
    await lease.release();
  }
};

const checkpointOfActive = async (name: string) =>
  (await readCheckpoint(redis, keys, name, await readActiveGeneration(redis, keys, name))).position;

/** Asks for a rebuild of these runners' projections and times each until its new generation is active. */
const timeRebuild = async (phase: string, runners: ProjectionRunner[]) => {
  const replaced = await Promise.all(runners.map((runner) => readActiveGeneration(redis, keys, runner.name)));
  const started = clock();
  const generations = await Promise.all(runners.map((runner) => requestRebuild(redis, keys, runner.name)));
  await Promise.all(
    runners.map(async (runner, i) => {
      const generation = generations[i]!;
      // The runner notices the request on its next lease tick; the projector's own time starts then.
      await until(
        () => runner.projectors.rebuild?.generation === generation,
        `${runner.name} rebuild to start`,
      );
      const noticedMs = clock() - started;
      await until(
        async () => (await readActiveGeneration(redis, keys, runner.name)) === generation,
        `${runner.name} to flip`,
      );
      const ms = clock() - started;
      await mark({ msg: 'rebuilt', phase, projection: runner.name, generation, noticedMs, ms });
    }),
  );
  await mark({ msg: 'phase-done', phase, ms: clock() - started });
  // The replaced generations are unlinked in the background after a grace period. Wait for that before
  // the next phase, so it does not pay for this one's clean-up (the checkpoint key is deleted last).
  await until(
    async () =>
      (
        await Promise.all(
          runners.map((runner, i) =>
            redis.primary.exists(keys.generation(runner.name, replaced[i]!).checkpoint),
          ),
        )
      ).every((exists) => exists === 0),
    `the replaced generations of phase ${phase} to be unlinked`,
  );
  await mark({ msg: 'unlinked', phase, ms: clock() - started });
};

const rebuildWithRunners = async (head: bigint) => {
  const runners = projections.map((projection) =>
    new ProjectionRunner({ projection, store, redis, keys, upcast: upcastOrderEvent, ...batchSize }).start(),
  );
  try {
    const started = clock();
    await until(
      async () => (await Promise.all(names.map(checkpointOfActive))).every((cp) => cp >= head),
      'the active generations to catch up',
    );
    await mark({ msg: 'main-caught-up', ms: clock() - started });
    await timeRebuild('all', runners);
    // What one admin call does: one projection, the rest idle; repeated, as the limit is measured best of 3.
    const repeats = Number(process.env.BENCH_REPEAT ?? 1);
    for (let run = 1; run <= repeats; run++) await timeRebuild(`alone-${run}`, runners.slice(0, 1));
  } finally {
    await Promise.all(runners.map((runner) => runner.stop()));
  }
};

/** The projector's read path without the projection: subscription, parsing, upcasting, nothing sent. */
const readOnly = async (head: bigint) => {
  const started = clock();
  const subscription = store.subscribeAll({
    from: 'start',
    filter: { streamPrefixes: projections[0]!.streams },
  });
  let events = 0;
  try {
    for await (const message of subscription) {
      if (message.kind === 'event') {
        upcastOrderEvent(message.event);
        events += 1;
      }
      if (message.kind === 'caught-up' || (message.kind === 'event' && message.event.position >= head)) break;
    }
  } finally {
    await subscription.close();
  }
  await mark({ msg: 'read', events, ms: clock() - started });
};

const main = async () => {
  if (!(await redis.connect(10_000))) throw new Error('Redis did not answer');
  const head = await store.headPosition();
  await mark({ msg: 'ready', head: String(head) });
  const mode = env('BENCH_MODE');
  if (mode === 'rebuild') {
    await rebuildWithRunners(head);
  } else if (mode === 'read-only') {
    await readOnly(head);
  } else {
    const started = clock();
    await Promise.all(projections.map((projection) => projectFromScratch(projection, head, started)));
    await mark({ msg: 'all-caught-up', ms: clock() - started });
  }
  await redis.close();
  await store.close();
  // maxRSS (KiB) is the process's peak resident memory: the answer to "is memory bounded?"
  emit({ msg: 'done', peakRssBytes: process.resourceUsage().maxRSS * 1024 });
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    emit({ msg: 'failed', error: error instanceof Error ? error.stack : String(error) });
    process.exit(1);
  },
);

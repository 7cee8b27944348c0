import { ConfigError, loadConfig } from './config.js';
import { openEventStore } from './eventstore/index.js';
import { mountModules } from './module/index.js';
import { modules } from './modules.js';
import {
  listParked,
  type Projection,
  ProjectionStatusReader,
  type ProjectionStatusRow,
  ReplayNotServed,
  readModelKeys,
  requestRebuild,
  requestReplay,
} from './readmodel/index.js';
import { DEFAULT_REDIS_URL, openRedis, type Redis } from './redis/index.js';

/** The projections of the service's modules, as the service mounts them. */
const allProjections = mountModules(modules).projections.map(({ projection }) => projection);

const USAGE = `usage: npm run sluice -- projections <command> [--json]

  projections status            every projection: generation, status, checkpoint, lag, parked
  projections rebuild <name>    rebuild blue/green into a new generation (the lease holder builds it)
  projections parked <name>     the events the projection's handlers kept failing on
  projections replay <name>     re-apply the parked events in order (the projector holding the projection's
                                lease runs it); the ones that succeed are removed

Uses the service's environment: REDIS_URL (or REDIS_SENTINELS + REDIS_SENTINEL_MASTER, or
REDIS_CLUSTER_NODES), REDIS_PREFIX, EVENTSTORE_URL.`;

/** Bad usage or an unknown name: the message is printed, with the exit code. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface Invocation {
  command: 'status' | 'rebuild' | 'parked' | 'replay';
  name?: string;
  json: boolean;
}

const parseArguments = (argv: string[]): Invocation => {
  const json = argv.includes('--json');
  const words = argv.filter((word) => word !== '--json');
  const [group, command, name, ...extra] = words;
  if (group !== 'projections' || command === undefined) throw new CliError(USAGE, 2);
  if (command === 'status' && name === undefined) return { command, json };
  if ((command === 'rebuild' || command === 'parked' || command === 'replay') && name !== undefined) {
    if (extra.length === 0) return { command, name, json };
  }
  throw new CliError(`sluice: bad usage: ${words.join(' ')}\n\n${USAGE}`, 2);
};

const projectionNamed = (name: string): Projection => {
  const projection = allProjections.find((p) => p.name === name);
  if (projection === undefined) {
    const known = allProjections.map((p) => p.name).join(', ');
    throw new CliError(`sluice: unknown projection "${name}" (known: ${known})`, 1);
  }
  return projection;
};

const table = (rows: ProjectionStatusRow[]): string => {
  const header = [
    'NAME',
    'VERSION',
    'GEN',
    'STATUS',
    'CHECKPOINT',
    'HEAD',
    'LAG',
    'LAG MS',
    'ACCEPTS MS',
    'PARKED',
    'REBUILD',
  ];
  const lines = rows.map((r) => [
    r.name,
    String(r.version),
    String(r.generation),
    r.status,
    r.checkpoint,
    r.headPosition,
    String(r.lagEvents),
    String(r.lagMs),
    `${r.acceptableLagMs}${r.overAcceptableLag ? ' (over)' : ''}`,
    String(r.parked),
    r.rebuildGeneration === undefined ? '-' : `g${r.rebuildGeneration} at ${r.rebuildCheckpoint}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)));
  return [header, ...lines]
    .map((line) =>
      line
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

const print = (text: string) => process.stdout.write(`${text}\n`);

const run = async (invocation: Invocation, redis: Redis, prefix: string, eventStoreUrl: string) => {
  const keys = readModelKeys(prefix);
  const { command, json } = invocation;
  if (command === 'status') {
    const store = await openEventStore(eventStoreUrl);
    try {
      const rows = await new ProjectionStatusReader({
        redis,
        keys,
        store,
        projections: allProjections,
      }).list();
      print(json ? JSON.stringify(rows, null, 2) : table(rows));
    } finally {
      await store.close();
    }
    return;
  }
  const projection = projectionNamed(invocation.name!);
  if (command === 'rebuild') {
    const generation = await requestRebuild(redis, keys, projection.name);
    print(
      json
        ? JSON.stringify({ generation })
        : `rebuild of ${projection.name} asked for: generation ${generation} ` +
            '(the process holding its lease builds it, then queries switch to it)',
    );
  } else if (command === 'parked') {
    const parked = await listParked(redis, keys, projection.name);
    if (json) print(JSON.stringify(parked, null, 2));
    else if (parked.length === 0) print(`no parked events for ${projection.name}`);
    else
      for (const p of parked)
        print(`${p.id}  position ${p.position}  ${p.error}\n  ${JSON.stringify(p.event ?? p.write)}`);
  } else {
    const outcome = await requestReplay(redis, keys, projection.name).catch((error: unknown) => {
      if (error instanceof ReplayNotServed) throw new CliError(`sluice: ${error.message}`, 1);
      throw error;
    });
    print(
      json
        ? JSON.stringify(outcome)
        : `replayed ${outcome.replayed}, failed ${outcome.failed}, remaining ${outcome.remaining}`,
    );
  }
};

const main = async (argv: string[]): Promise<number> => {
  try {
    const invocation = parseArguments(argv);
    if (invocation.name !== undefined) projectionNamed(invocation.name); // a typo needs no Redis to be told
    const config = loadConfig();
    const redis = openRedis(config.redis ?? { kind: 'single', url: DEFAULT_REDIS_URL });
    try {
      if (!(await redis.connect(3000))) throw new CliError('sluice: Redis is not reachable (3 s)', 1);
      await run(invocation, redis, config.redisPrefix, config.eventStoreUrl);
    } finally {
      await redis.close();
    }
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`sluice: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`sluice: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
};

process.exitCode = await main(process.argv.slice(2));

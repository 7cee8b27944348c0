import type { RecordedEvent } from '../eventstore';
import { luaScript, type Redis } from '../redis';
import { invalidArguments } from './batch-builder';
import { readActiveGeneration } from './generations';
import type { ReadModelKeys } from './keys';
import { type Projection, type RedisWrite, recordWrites } from './projection';

/**
 * One entry of a generation's `_parked` stream: an event whose handler (or upcaster) kept failing, parked
 * by batch-builder.ts as it is stored; or one write of a batch that Redis refused, parked by the apply script.
 */
export interface ParkedEvent {
  /** The entry's id in the generation's `_parked` Redis stream. */
  id: string;
  position: string;
  error: string;
  /** The event as stored (positions and revisions as decimal strings), when the handler failed. */
  event?: unknown;
  /** The refused write `{ command, key, args }` (absolute key), when Redis refused it. */
  write?: unknown;
}

export interface ReplayOutcome {
  replayed: number;
  failed: number;
  /** Parked entries left in the active generation after the replay. */
  remaining: number;
}

const PAGE = 100;

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text; // shown as stored
  }
};

const toParkedEvent = ({ id, message }: { id: string; message: Record<string, string> }): ParkedEvent => ({
  id,
  position: message.position ?? '',
  error: message.error ?? '',
  ...(message.event === undefined ? {} : { event: parsed(message.event) }),
  ...(message.write === undefined ? {} : { write: parsed(message.write) }),
});

/** The active generation's parked events, oldest first. */
export const listParked = async (
  redis: Redis,
  keys: ReadModelKeys,
  projection: string,
  limit = 1000,
): Promise<ParkedEvent[]> => {
  const generation = await readActiveGeneration(redis, keys, projection);
  const entries = await redis.primary.xRange(keys.generation(projection, generation).parked, '-', '+', {
    COUNT: limit,
  });
  return entries.map(toParkedEvent);
};

/**
 * KEYS: 1 active pointer, 2 the generation's parked stream, 3.. the keys the writes touch.
 * ARGV: 1 generation, 2 parked entry id, 3 mode, 4 position, 5 number of writes, then per write: command,
 * key index, argument count, arguments.
 * Mode `event`: the entry goes and the event's writes land in one step, so two replays at once (two admins,
 * API and CLI) apply an event once. Redis never rolls a script back, so a write it refuses does not fail the
 * script half-way: it is parked again on its own, as the apply script does. Answers the refused count.
 * Mode `write`: the one refused write again; the entry goes only if Redis takes it now.
 * A generation that is no longer active is left alone: it is about to be unlinked, and its replacement ran
 * the event itself.
 */
const replayScript = luaScript(`#!lua
if (redis.call('GET', KEYS[1]) or '1') ~= ARGV[1] then return 'NOT_ACTIVE' end
if #redis.call('XRANGE', KEYS[2], ARGV[2], ARGV[2]) == 0 then return 'GONE' end
local i = 5
local writes = tonumber(ARGV[i])
local refused = 0
for _ = 1, writes do
  local command, key, argc = ARGV[i + 1], KEYS[tonumber(ARGV[i + 2])], tonumber(ARGV[i + 3])
  local args = {}
  for a = 1, argc do args[a] = ARGV[i + 3 + a] end
  local reply = redis.pcall(command, key, unpack(args))
  if type(reply) == 'table' and reply.err then
    if ARGV[3] == 'write' then return 'REFUSED' end
    local write = cjson.encode({ command = command, key = key, args = args })
    redis.call('XADD', KEYS[2], '*', 'position', ARGV[4], 'error', reply.err, 'write', write)
    refused = refused + 1
  end
  i = i + 3 + argc
end
redis.call('XDEL', KEYS[2], ARGV[2])
return refused`);

type ReplayMode = 'event' | 'write';

/** Script arguments for writes on absolute keys; each distinct key goes into KEYS once. */
const encodeWrites = (writes: readonly RedisWrite[], scriptKeys: string[]): string[] => {
  const indexOfKey = new Map<string, number>();
  const args = [String(writes.length)];
  for (const write of writes) {
    let index = indexOfKey.get(write.key);
    if (index === undefined) {
      scriptKeys.push(write.key);
      index = scriptKeys.length; // Lua's KEYS is 1-based
      indexOfKey.set(write.key, index);
    }
    args.push(write.command, String(index), String(write.args.length), ...write.args);
  }
  return args;
};

/** The parked JSON back into an event: bigints and dates were written as strings. */
const reviveEvent = (stored: Record<string, unknown>): RecordedEvent => ({
  ...(stored as unknown as RecordedEvent),
  position: BigInt(String(stored.position)),
  revision: BigInt(String(stored.revision)),
  recordedAt: new Date(String(stored.recordedAt)),
});

/** What replaying an entry would write (absolute keys), or undefined when it still fails before Redis. */
const replayPlan = (
  parked: ParkedEvent,
  projection: Projection,
  upcast: (event: RecordedEvent) => RecordedEvent,
  keyOf: (relative: string) => string,
): { mode: ReplayMode; writes: RedisWrite[] } | undefined => {
  try {
    if (parked.write !== undefined) {
      const write = parked.write as RedisWrite;
      // Only a write into this generation: the entry is data, not a license to write anywhere.
      if (typeof write.key !== 'string' || !write.key.startsWith(keyOf(''))) return undefined;
      return {
        mode: 'write',
        writes: [{ command: write.command, key: write.key, args: write.args.map(String) }],
      };
    }
    const { writes } = recordWrites(projection, upcast(reviveEvent(parked.event as Record<string, unknown>)));
    if (writes.some((write) => invalidArguments(write) !== undefined)) return undefined;
    return { mode: 'event', writes: writes.map((write) => ({ ...write, key: keyOf(write.key) })) };
  } catch {
    return undefined; // the handler (or upcaster) still throws
  }
};

/**
 * Re-applies the active generation's parked entries: an event through the upcaster and the projection's
 * handlers, as the projector does; a refused write as it was. Each one that now succeeds is removed;
 * one that still fails stays parked.
 *
 * Runs in any process (API, CLI) without the projection's lease: a replayed event is not part of the
 * ordered stream of batches anyway (the checkpoint moved on when it was parked), so its effect lands after
 * the events that followed it, which is inherent to parking. Handlers that compute in place (HINCRBY,
 * ZADD of a fact the event carries) make that order matter little.
 */
export const replayParked = async (
  redis: Redis,
  keys: ReadModelKeys,
  projection: Projection,
  upcast: (event: RecordedEvent) => RecordedEvent = (event) => event,
): Promise<ReplayOutcome> => {
  const generation = await readActiveGeneration(redis, keys, projection.name);
  const generationKeys = keys.generation(projection.name, generation);
  const outcome = { replayed: 0, failed: 0 };
  const remaining = async () => ({ ...outcome, remaining: await redis.primary.xLen(generationKeys.parked) });
  // Only entries parked before the replay began (a write refused again is parked anew, after them).
  const last = (await redis.primary.xRevRange(generationKeys.parked, '+', '-', { COUNT: 1 }))[0]?.id;
  let from = '-';
  while (last !== undefined) {
    const page = (await redis.primary.xRange(generationKeys.parked, from, last, { COUNT: PAGE })).map(
      toParkedEvent,
    );
    for (const parked of page) {
      const plan = replayPlan(parked, projection, upcast, generationKeys.key);
      if (plan === undefined) {
        outcome.failed += 1;
        continue;
      }
      const scriptKeys = [keys.active(projection.name), generationKeys.parked];
      const args = [String(generation), parked.id, plan.mode, parked.position];
      const result = await redis.runScript(replayScript, scriptKeys, [
        ...args,
        ...encodeWrites(plan.writes, scriptKeys),
      ]);
      if (result === 'NOT_ACTIVE') return remaining();
      if (result === 0) outcome.replayed += 1;
      else if (result !== 'GONE') outcome.failed += 1; // refused by Redis: parked (again) as a write
    }
    if (page.length < PAGE) break;
    from = `(${page.at(-1)!.id}`;
  }
  return remaining();
};

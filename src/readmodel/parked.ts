import { randomUUID } from 'node:crypto';
import { luaScript, type Redis } from '../redis/index.js';
import { readActiveGeneration } from './generations.js';
import type { ReadModelKeys } from './keys.js';
import type { ReplayOutcome } from './replay.js';

/**
 * One entry of a generation's `_parked` stream: an event whose handler (or upcaster) kept failing, or one
 * held behind such an event of its stream, parked by batch-builder.ts as it is stored; or one write of a
 * batch that Redis refused, parked by the apply script.
 */
export interface ParkedEvent {
  /** The entry's id in the generation's `_parked` Redis stream. */
  id: string;
  position: string;
  error: string;
  /** The stream of the event, when the entry is an event. */
  stream?: string;
  /** The event as stored (positions and revisions as decimal strings), when the entry is an event. */
  event?: unknown;
  /** The refused write `{ command, key, args }` (absolute key), when Redis refused it. */
  write?: unknown;
}

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
  ...(message.stream === undefined ? {} : { stream: message.stream }),
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

/** No process ran the replay in time: nobody holds the projection's lease (no projector runs it). */
export class ReplayNotServed extends Error {
  override readonly name = 'ReplayNotServed';
}

/** How often a waiting requester looks whether its turn came, and whether its replay is done. */
const REPLAY_POLL_MS = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Asks the projection's lease holder to replay the active generation's parked entries, and waits for what
 * it did. The holder runs the replay in its projector's loop, between two batches, through the same apply
 * as every batch (replay.ts): in order, fenced by the lease, never beside another writer. One replay at a
 * time: a second request waits for the first to finish, then runs (and finds what is left).
 */
export const requestReplay = async (
  redis: Redis,
  keys: ReadModelKeys,
  projection: string,
  timeoutMs = 15_000,
): Promise<ReplayOutcome> => {
  const generationKeys = keys.generation(projection, await readActiveGeneration(redis, keys, projection));
  const id = randomUUID();
  const deadline = Date.now() + timeoutMs;
  const notServed = () =>
    new ReplayNotServed(
      `no process replayed the parked events of ${projection} within ${timeoutMs} ms: is a projector ` +
        '(ROLE=all or ROLE=projector) running it?',
    );
  // The request expires by itself: one nobody serves never blocks the next.
  const ask = () =>
    redis.primary.set(generationKeys.replayRequest, id, {
      condition: 'NX',
      expiration: { type: 'PX', value: timeoutMs },
    });
  while ((await ask()) !== 'OK') {
    if (Date.now() > deadline) throw notServed();
    await sleep(REPLAY_POLL_MS);
  }
  for (;;) {
    const result = await redis.primary.hGetAll(generationKeys.replayResult(id));
    if (result.remaining !== undefined) {
      return {
        replayed: Number(result.replayed),
        failed: Number(result.failed),
        remaining: Number(result.remaining),
      };
    }
    if (Date.now() > deadline) throw notServed();
    await sleep(REPLAY_POLL_MS);
  }
};

/**
 * KEYS: 1 lease, 2 the replay request, 3 its result. ARGV: 1 lease token, 2 request id, 3 replayed,
 * 4 failed, 5 remaining. The lease holder answers the request it served, and clears it for the next one.
 */
export const replayDoneScript = luaScript(`#!lua flags=allow-oom
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[3], 'replayed', ARGV[3], 'failed', ARGV[4], 'remaining', ARGV[5])
redis.call('PEXPIRE', KEYS[3], 300000)
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 1`);

import { type EventStore, WrongExpectedVersion } from '../eventstore/index.js';
import { IdempotencyKeyReused } from './errors.js';
import { type Command, eventIdFor } from './messages.js';

/** Streams that record which request first used an Idempotency-Key (the command id derives from the key). */
export const IDEMPOTENCY_STREAM_PREFIX = 'idempotency-';

/**
 * Keys are global, not per entity: the first request with a key claims it in a stream of its own, and any
 * other request with that key (another entity, another route, another body) is refused with 422. The
 * claim's id derives from the request hash, so the same request claims again as a no-op — after a crash
 * between the claim and the command's own append, a retry still goes through.
 */
export const claimIdempotencyKey = async (
  store: EventStore,
  command: Command,
  stream: string,
): Promise<void> => {
  const { commandId, requestHash } = command.metadata;
  if (requestHash === undefined) return;
  const claimStream = IDEMPOTENCY_STREAM_PREFIX + commandId;
  try {
    await store.append(
      claimStream,
      [
        {
          id: eventIdFor(command.metadata, -1),
          type: 'IdempotencyKeyClaimed',
          data: { requestHash, stream, commandType: command.type },
          metadata: { ...command.metadata, schemaVersion: 1 },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
  } catch (error) {
    if (!(error instanceof WrongExpectedVersion)) throw error; // unavailable: the HTTP layer answers 503
    for await (const claim of store.readStream(claimStream)) {
      if ((claim.data as { requestHash?: string }).requestHash !== requestHash) {
        throw new IdempotencyKeyReused('this Idempotency-Key was already used with a different request');
      }
      return;
    }
  }
};

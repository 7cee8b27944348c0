import { createHash, randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';

/**
 * Carried by every command and copied into the metadata of every event it appends, except that an
 * event's `causationId` is the id of the command that caused it.
 */
export interface MessageMetadata {
  commandId: string;
  /** The whole conversation: X-Correlation-Id of the request (or one generated for it). */
  correlationId: string;
  /** What caused this message: for a command the request (its correlation id), for an event the command. */
  causationId: string;
  /** Hash of the request that carried an Idempotency-Key: a replay with another body is refused. */
  requestHash?: string;
}

export interface Command<T extends string = string, D = unknown> {
  type: T;
  data: D;
  metadata: MessageMetadata;
}

export interface Query<T extends string = string, P = unknown> {
  type: T;
  params: P;
}

// Fixed namespaces: the same Idempotency-Key always derives the same ids, in every process, forever.
const COMMAND_NAMESPACE = '5b0c6f1e-8a53-4b6e-9d7e-2f3c1a9e0d41';
const EVENT_NAMESPACE = '0e7d2c55-3c8f-4f0e-b1a4-7d6b9e21c3aa';
const ENTITY_NAMESPACE = 'a3f1e9b2-6d4c-4b8a-9e57-1c2d3e4f5a6b';

/** A command id: derived from the Idempotency-Key when there is one, so a retried request is the same command. */
export const commandIdFor = (idempotencyKey?: string): string =>
  idempotencyKey === undefined ? randomUUID() : uuidv5(idempotencyKey, COMMAND_NAMESPACE);

/** An id for a new entity (an order, say) that the same Idempotency-Key always derives again. */
export const entityIdFor = (kind: string, idempotencyKey?: string): string =>
  idempotencyKey === undefined ? randomUUID() : uuidv5(`${kind}:${idempotencyKey}`, ENTITY_NAMESPACE);

/**
 * Event ids derive from the command id and the request hash: re-appending a retried command's events is
 * a no-op in the store, while the same Idempotency-Key with another body derives other ids, so the store
 * refuses it as a conflict (and the retry then answers 422) instead of taking it for the first request.
 */
export const eventIdFor = (
  metadata: Pick<MessageMetadata, 'commandId' | 'requestHash'>,
  index: number,
): string => uuidv5(`${metadata.commandId}:${metadata.requestHash ?? ''}:${index}`, EVENT_NAMESPACE);

/** Stable hash of a request: method, path and body with keys sorted, so key order does not matter. */
export const requestHashOf = (method: string, path: string, body: unknown): string =>
  createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body)}`)
    .digest('base64url');

const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

/**
 * Every error a client can see, in one place. `type` is the stable problem+json type; `status` the HTTP status.
 * Anything else that escapes a handler is a 500 without details.
 */
export const PROBLEM_TYPE_BASE = 'https://sluice.dev/problems/';

export interface FieldError {
  path: string;
  message: string;
}

export abstract class ProblemError extends Error {
  abstract readonly type: string;
  abstract readonly status: number;
  abstract readonly title: string;
  readonly errors?: FieldError[];
  /** Seconds a client should wait before retrying (503). */
  readonly retryAfterSeconds?: number;
}

const problem = (slug: string, status: number, title: string) =>
  class extends ProblemError {
    readonly type = PROBLEM_TYPE_BASE + slug;
    readonly status = status;
    readonly title = title;
  };

export class ValidationFailed extends problem('validation-failed', 400, 'Request validation failed') {
  override readonly errors: FieldError[];
  constructor(detail: string, errors: FieldError[] = []) {
    super(detail);
    this.errors = errors;
  }
}
export class MalformedJson extends problem('malformed-json', 400, 'Malformed JSON body') {}
export class NotFound extends problem('not-found', 404, 'Not found') {}
export class InvalidTransition extends problem('invalid-transition', 409, 'Invalid state transition') {
  constructor(
    readonly state: string,
    readonly command: string,
    /** What the command was for, as the message names it ("an order"). */
    entity = 'an entity',
  ) {
    super(`cannot ${command} ${entity} that is ${state}`);
  }
}
/** A domain limit (lines per entity, a quantity) that a valid request would push past. */
export class LimitExceeded extends problem('limit-exceeded', 409, 'Limit exceeded') {}
export class ConcurrencyConflict extends problem('concurrency-conflict', 409, 'Concurrent modification') {}
export class PreconditionFailed extends problem('precondition-failed', 412, 'Precondition failed') {}
export class PayloadTooLarge extends problem('payload-too-large', 413, 'Payload too large') {}
export class UnsupportedMediaType extends problem('unsupported-media-type', 415, 'Unsupported media type') {}
export class IdempotencyKeyReused extends problem('idempotency-key-reused', 422, 'Idempotency-Key reused') {}
export class Unauthorized extends problem('unauthorized', 401, 'Unauthorized') {}
export class Forbidden extends problem('forbidden', 403, 'Forbidden') {}
export class MethodNotAllowed extends problem('method-not-allowed', 405, 'Method not allowed') {
  constructor(
    detail: string,
    /** The methods the resource supports, for the Allow header. */
    readonly allow: readonly string[],
  ) {
    super(detail);
  }
}
export class TooManyRequests extends problem('too-many-requests', 429, 'Too many requests') {
  override readonly retryAfterSeconds: number;
  constructor(detail: string, retryAfterSeconds: number) {
    super(detail);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
/**
 * The client went away before its request was read (nginx's 499). Not a server error: nobody receives the
 * answer, and it must not count as a 5xx.
 */
export class ClientClosedRequest extends problem('client-closed-request', 499, 'Client closed request') {}
/** The server stopped waiting for the rest of the request (its request timeout); the client got a 408. */
export class RequestTimeout extends problem('request-timeout', 408, 'Request timeout') {}
/** Bytes Node's HTTP parser refused (a malformed line or header): no route ever saw them. */
export class MalformedRequest extends problem('malformed-request', 400, 'Bad request') {}
export class HeadersTooLarge extends problem('headers-too-large', 431, 'Request header fields too large') {}
export class ServiceUnavailable extends problem('service-unavailable', 503, 'Service unavailable') {
  override readonly retryAfterSeconds: number;
  constructor(detail: string, retryAfterSeconds = 1) {
    super(detail);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

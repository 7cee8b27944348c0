import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { z } from 'zod';
import {
  ClientClosedRequest,
  MalformedJson,
  PayloadTooLarge,
  parseOrThrow,
  RequestTimeout,
  UnsupportedMediaType,
  ValidationFailed,
} from '../cqrs/index.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export const tooLarge = (): PayloadTooLarge =>
  new PayloadTooLarge(`the body is over ${MAX_BODY_BYTES} bytes (1 MiB)`);

export const isJsonMediaType = (contentType: string): boolean => {
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
};

/** The charset parameter of a Content-Type, lower case and unquoted, or undefined. */
const charsetOf = (contentType: string): string | undefined =>
  /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType)?.[1]?.toLowerCase();

/** The declared Content-Length, or undefined when the body is chunked (or absent). */
export const declaredLength = (c: Context): number | undefined => {
  const header = c.req.header('content-length');
  return header === undefined ? undefined : Number(header);
};

/** True when the request announces a body: a non-zero Content-Length or a Transfer-Encoding. */
export const announcesBody = (c: Context): boolean =>
  (declaredLength(c) ?? 0) > 0 || c.req.header('transfer-encoding') !== undefined;

export interface BodyWatch {
  /** More than the limit went through: the read fails with PayloadTooLarge. */
  onExceeded?: () => void;
  /** The body was read to its end. */
  onEnd?: () => void;
}

/** A body stream that fails with PayloadTooLarge as soon as more than `max` bytes went through it. */
export const limitedBody = (
  body: ReadableStream<Uint8Array>,
  { onExceeded, onEnd }: BodyWatch = {},
  max = MAX_BODY_BYTES,
): ReadableStream<Uint8Array> => {
  let total = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        total += chunk.byteLength;
        if (total <= max) return controller.enqueue(chunk);
        onExceeded?.();
        controller.error(tooLarge());
      },
      flush() {
        onEnd?.();
      },
    }),
  );
};

/** The Node request behind a Hono context, when it runs on @hono/node-server. */
export const incomingOf = (c: Context): IncomingMessage | undefined =>
  (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;

const clientClosed = (cause?: unknown): ClientClosedRequest =>
  new ClientClosedRequest('the client closed the connection before sending the whole body', { cause });

/** Requests whose connection the server closed with a 408 (see startHttpServer): their body never came. */
const timedOut = new WeakSet<IncomingMessage>();

/** The server answered 408 on this request's connection: a body read that fails now is the timeout's. */
export const markTimedOut = (incoming: IncomingMessage): void => {
  timedOut.add(incoming);
};

const bodyLost = (incoming: IncomingMessage, cause?: unknown) =>
  timedOut.has(incoming)
    ? new RequestTimeout('the whole request did not arrive in time', { cause })
    : clientClosed(cause);

/**
 * The body read straight from Node's request (no web Request, stream or AbortSignal made for it), failing
 * with PayloadTooLarge as soon as more than `max` bytes arrived. What is left unread is drained or the
 * socket closed by the server adapter after the answer.
 */
export const readIncomingBody = (
  incoming: IncomingMessage,
  { onExceeded, onEnd }: BodyWatch = {},
  max = MAX_BODY_BYTES,
): Promise<Buffer> =>
  new Promise<Buffer>((resolve, reject) => {
    if (incoming.readableEnded) {
      onEnd?.();
      return resolve(Buffer.alloc(0));
    }
    const chunks: Buffer[] = [];
    let total = 0;
    const stop = () => {
      incoming.off('data', onData);
      incoming.off('end', onEndOfBody);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total <= max) return void chunks.push(chunk);
      stop();
      incoming.pause();
      onExceeded?.();
      reject(tooLarge());
    };
    const onEndOfBody = () => {
      stop();
      onEnd?.();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onError = (error: Error) => {
      stop();
      reject(bodyLost(incoming, error));
    };
    const onClose = () => {
      stop();
      reject(bodyLost(incoming));
    };
    incoming.on('data', onData);
    incoming.on('end', onEndOfBody);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });

/** Bodies the middleware took charge of: read once, through its limit and watch. */
const guardedBodies = new WeakMap<Context, () => Promise<Uint8Array>>();

/** Lets `readJsonBody` read this request's body through `read` (called at most once). */
export const guardBody = (c: Context, read: () => Promise<Uint8Array>): void => {
  let once: Promise<Uint8Array> | undefined;
  guardedBodies.set(c, () => {
    once ??= read();
    return once;
  });
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The raw body, refusing more than MAX_BODY_BYTES without reading it all (also without the middleware). */
const readBodyBytes = async (c: Context): Promise<Uint8Array> => {
  if ((declaredLength(c) ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const guarded = guardedBodies.get(c);
  if (guarded !== undefined) return guarded();
  const incoming = incomingOf(c);
  if (incoming !== undefined) return readIncomingBody(incoming);
  const stream = c.req.raw.body;
  if (stream === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength;
      if (total > MAX_BODY_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof PayloadTooLarge) throw error;
    // The body stream fails only when the client's socket did (it closed or reset mid-body).
    throw clientClosed(error);
  }
  return Buffer.concat(chunks);
};

const parseJson = (bytes: Uint8Array): unknown => {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new MalformedJson('the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof RangeError ? 'it is nested too deeply' : (error as Error).message;
    throw new MalformedJson(`the body is not valid JSON: ${reason}`);
  }
};

/**
 * Reads and validates a JSON body. An `optional` body may be absent (no bytes at all, whatever the
 * content-type says); anything sent must be JSON: another media type is a 415, bad bytes or syntax a
 * 400, a failed schema a 400 listing each field.
 */
export const readJsonBody = async <S extends z.ZodType>(
  c: Context,
  schema: S,
  { optional = false }: { optional?: boolean } = {},
): Promise<z.output<S>> => {
  const bytes = await readBodyBytes(c);
  if (bytes.byteLength === 0 && optional) return parseOrThrow(schema, {});
  const contentType = c.req.header('content-type');
  if (contentType === undefined || !isJsonMediaType(contentType)) {
    throw new UnsupportedMediaType(
      `send the body as application/json (got ${contentType ?? 'no content-type'})`,
    );
  }
  const charset = charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new UnsupportedMediaType(
      `JSON is UTF-8 (RFC 8259): send charset=utf-8 or none (got charset=${charset})`,
    );
  }
  return parseOrThrow(schema, parseJson(bytes));
};

/** Path and query parameters: a failure names the parameter. */
export const parseParams = <S extends z.ZodType>(schema: S, input: unknown, subject: string): z.output<S> =>
  parseOrThrow(schema, input, subject);

const PRINTABLE = /^[\x20-\x7E]+$/;

export const isPrintableAscii = (value: string, max: number): boolean =>
  value.length <= max && PRINTABLE.test(value);

/** A header of 1–max printable ASCII characters, or undefined when absent. */
export const printableHeader = (c: Context, name: string, max: number): string | undefined => {
  const value = c.req.header(name);
  if (value === undefined) return undefined;
  if (headerLines(c, name).length > 1) throw badHeader(name, 'was sent more than once');
  if (!isPrintableAscii(value, max)) {
    throw new ValidationFailed(`${name} must be 1–${max} printable ASCII characters`, [
      { path: `header.${name}`, message: `must be 1–${max} printable ASCII characters` },
    ]);
  }
  return value;
};

/**
 * Every line a header was sent on. Node joins repeated lines with ", " in `headers`, which would merge two
 * Idempotency-Keys into a new one; `headersDistinct` keeps them apart. Outside Node's server (app.request
 * in a test) the joined value is all there is.
 */
export const headerLines = (c: Context, name: string): string[] => {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const lines = incoming?.headersDistinct?.[name];
  if (lines !== undefined) return lines;
  const value = c.req.header(name);
  return value === undefined ? [] : [value];
};

const badHeader = (name: string, message: string): ValidationFailed =>
  new ValidationFailed(`${name} ${message}`, [{ path: `header.${name}`, message }]);

// RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE
/** One element of an entity-tag list (possibly empty) and the comma after it, or the end. */
const LIST_ITEM = /[ \t]*(?:(W\/)?"([\x21\x23-\x7E\x80-\xFF]*)"[ \t]*)?(?:,|$)/y;
/** How this service writes a version in an ETag: decimal digits, no leading zero ("00" is not "0"). */
const VERSION_TAG = /^(?:0|[1-9]\d{0,17})$/;

/**
 * The entity-tags of a list field (RFC 9110 §5.6.1: empty elements are ignored; a comma inside quotes belongs
 * to the tag), or undefined when the field is malformed.
 */
const entityTags = (value: string): Array<{ weak: boolean; opaque: string }> | undefined => {
  const tags: Array<{ weak: boolean; opaque: string }> = [];
  LIST_ITEM.lastIndex = 0;
  for (;;) {
    const at = LIST_ITEM.lastIndex;
    const match = LIST_ITEM.exec(value);
    if (match === null) return undefined;
    if (match[2] !== undefined) tags.push({ weak: match[1] !== undefined, opaque: match[2] });
    if (LIST_ITEM.lastIndex >= value.length || LIST_ITEM.lastIndex === at) return tags;
  }
};

/**
 * If-None-Match by RFC 9110 §13.1.2, compared weakly (`W/"3"` is `"3"`): true when it is `*` or names
 * `opaqueTag` (the ETag without its quotes), so a GET or HEAD answers 304. A malformed field matches nothing:
 * the client gets the full answer.
 */
export const ifNoneMatchHits = (c: Context, opaqueTag: string): boolean => {
  // A list field: lines joined with ", " say the same (and a read pays no headersDistinct for it).
  const value = c.req.header('if-none-match')?.trim();
  if (value === undefined) return false;
  return value === '*' || (entityTags(value)?.some((tag) => tag.opaque === opaqueTag) ?? false);
};

/**
 * If-Match by RFC 9110 §13.1.1: absent or `*` → undefined (any version of an entity that exists); else the
 * versions a list of entity-tags names, compared strongly: `W/"0"` and `"00"` match nothing, and an empty
 * answer means no version can match (412). A malformed field, or two lines that disagree, is a 400.
 */
export const ifMatchVersions = (c: Context): readonly bigint[] | undefined => {
  const lines = headerLines(c, 'if-match').map((line) => line.trim());
  if (lines.length === 0) return undefined;
  if (new Set(lines).size > 1) throw badHeader('if-match', 'was sent twice with different values');
  const value = lines[0]!;
  if (value === '*') return undefined;
  const tags = entityTags(value);
  if (tags === undefined) throw badHeader('if-match', 'must be * or entity-tags in quotes, e.g. "3"');
  return tags.filter((tag) => !tag.weak && VERSION_TAG.test(tag.opaque)).map((tag) => BigInt(tag.opaque));
};

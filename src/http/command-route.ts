import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import {
  type Command,
  type CommandBus,
  commandIdFor,
  type ExpectedVersion,
  entityIdFor,
  type MessageMetadata,
  requestHashOf,
  type StreamCommandResult,
} from '../cqrs/index.js';
import { type Operation, problemResponses, publicOperation, route } from './openapi-route.js';
import { ifMatchVersions, parseParams, printableHeader, readJsonBody } from './request.js';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 128;

const commandHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(MAX_IDEMPOTENCY_KEY_LENGTH)
    .optional()
    .meta({
      description:
        '1–128 printable ASCII characters (else 400). The same key with the same request answers the first answer ' +
        'again (same status and body, Idempotent-Replayed: true) and appends nothing; keys are remembered in the ' +
        'event store for good (so at least 24 h). The same key with another request — another body, route or ' +
        'entity — → 422.',
    }),
  'if-match': z
    .string()
    .optional()
    .meta({ description: 'Run only if the entity is at this version, e.g. "3"; else 412.' }),
  'x-correlation-id': z.string().min(1).max(128).optional().meta({
    description:
      "1–128 printable ASCII characters (else 400); kept in the events' metadata and echoed back; generated when absent.",
  }),
});

/** Every command route answers these (with the route's own on top). */
const COMMAND_ERRORS = {
  400: 'Malformed JSON, failed validation (`errors` lists each bad field), or a bad id or header',
  413: 'Body over 1 MiB',
  415: 'A body that is not JSON',
  422: 'Idempotency-Key reused with another request',
  503: 'Event store unreachable (with Retry-After); nothing was appended',
};

/** A command's stream after it: what read-your-writes and If-Match take back. */
const resultSchema = (idField: string) =>
  z
    .object({
      [idField]: z.uuid(),
      version: z
        .number()
        .int()
        .meta({ description: "The entity stream's revision after the command (0 = first event)." }),
      position: z
        .string()
        .meta({ description: 'Global position of the last appended event, a decimal string.' }),
    })
    .meta({ description: 'Pass version back as minVersion, position as minPosition, to read your write.' });

/** What a command route hands its command builder. */
export interface CommandInput<P, B> {
  /** The entity the command is for: the path's id, or a new one for a creating command. */
  id: string;
  params: P;
  body: B;
  /** ISO 8601 time the command was received: the domain has no clock. */
  at: string;
}

export interface CommandRouteSpec<P extends z.ZodObject | undefined, B extends z.ZodType> extends Operation {
  method: 'post' | 'put' | 'delete';
  /** OpenAPI path, `{name}` for a path parameter. */
  path: string;
  /** Path parameters; for a command on an existing entity, `idParam` names the one that is its id. */
  params?: P;
  idParam?: P extends z.ZodObject ? keyof z.output<P> & string : never;
  body: B;
  /** Without a body the command reads `{}` (an empty object must pass `body`). Default true. */
  bodyRequired?: boolean;
  /** The entity's kind and the answer's id field, e.g. `{ kind: 'order', idField: 'orderId' }`. */
  entity: { kind: string; idField: string };
  /** A creating command: 201 with Location; the new id derives from the Idempotency-Key when there is one. */
  created?: { location: (id: string) => string };
  /** The command to dispatch (type and data); metadata, If-Match and the time are added by the route. */
  toCommand: (input: CommandInput<P extends z.ZodObject ? z.output<P> : undefined, z.output<B>>) => {
    type: string;
    data: object;
  };
  /** Problem responses beyond the ones every command has. */
  errors?: Record<number, string>;
}

export interface CommandRouteDeps {
  commands: CommandBus<Command & { expectedVersion?: ExpectedVersion }, StreamCommandResult>;
  now?: () => Date;
}

/** Metadata of a command from its request: ids derive from the Idempotency-Key so a retry is the same command. */
const metadataFor = (c: Context, idempotencyKey: string | undefined, body: unknown): MessageMetadata => {
  const correlationId = c.get('correlationId');
  return {
    commandId: commandIdFor(idempotencyKey),
    correlationId,
    causationId: correlationId,
    ...(idempotencyKey === undefined ? {} : { requestHash: requestHashOf(c.req.method, c.req.path, body) }),
  };
};

/**
 * A command route, with what every command has handled once: the body read and validated (415, 413, 400
 * listing each field), Idempotency-Key (ids derived from it, a replay answered as the first time with
 * Idempotent-Replayed), If-Match (the version the command must find), X-Correlation-Id in the metadata,
 * ETag and Location on the answer, and the OpenAPI description with its problem responses.
 */
export const commandRoute = <P extends z.ZodObject | undefined, B extends z.ZodType>(
  app: OpenAPIHono,
  deps: CommandRouteDeps,
  spec: CommandRouteSpec<P, B>,
): void => {
  const now = deps.now ?? (() => new Date());
  const bodyRequired = spec.bodyRequired ?? true;
  const success = spec.created ? 201 : 200;
  route(
    app,
    {
      method: spec.method,
      path: spec.path,
      ...publicOperation(spec, 'Commands'),
      request: {
        ...(spec.params ? { params: spec.params } : {}),
        headers: commandHeaders,
        body: { content: { 'application/json': { schema: spec.body } }, required: bodyRequired },
      },
      responses: {
        [success]: {
          description: spec.created ? 'Created; Location names it' : 'Applied',
          content: { 'application/json': { schema: resultSchema(spec.entity.idField) } },
        },
        ...problemResponses({ ...COMMAND_ERRORS, ...spec.errors }),
      },
    },
    async (c) => {
      const params = (spec.params ? parseParams(spec.params, c.req.param(), 'path') : undefined) as never;
      const idempotencyKey = printableHeader(c, 'idempotency-key', MAX_IDEMPOTENCY_KEY_LENGTH);
      const expectedVersion = ifMatchVersions(c);
      const body = await readJsonBody(c, spec.body, { optional: !bodyRequired });
      // A creating command: the same key derives the same id, so a retried request finds what it created.
      const id = spec.created
        ? entityIdFor(spec.entity.kind, idempotencyKey)
        : String((params as Record<string, unknown>)[spec.idParam as string]);
      const { type, data } = spec.toCommand({ id, params, body, at: now().toISOString() });
      const result = await deps.commands.dispatch({
        type,
        data,
        metadata: metadataFor(c, idempotencyKey, body),
        ...(expectedVersion === undefined ? {} : { expectedVersion }),
      });
      c.header('ETag', `"${result.version}"`);
      if (spec.created) c.header('Location', spec.created.location(id));
      if (result.replayed) c.header('Idempotent-Replayed', 'true');
      return c.json(
        { [spec.entity.idField]: id, version: Number(result.version), position: String(result.position) },
        success,
      );
    },
  );
};

import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { type CommandBus, commandIdFor, entityIdFor, type MessageMetadata, requestHashOf } from '../cqrs';
import {
  AddItemBody,
  AddressBody,
  CancelOrderBody,
  type OrderCommand,
  type OrderCommandResult,
  PlaceOrderBody,
  ShipOrderBody,
} from '../orders';
import { problemResponses, route } from './openapi-route';
import { ifMatchVersion, parseParams, printableHeader, readJsonBody } from './request';

export const OrderIdParam = z.object({
  id: z.uuid('must be a UUID').meta({ description: 'The order id (a UUID).', example: crypto.randomUUID() }),
});

const CommandResult = z
  .object({
    orderId: z.uuid(),
    version: z
      .number()
      .int()
      .meta({ description: "The order stream's revision after the command (0 = first event)." }),
    position: z
      .string()
      .meta({ description: 'Global position of the last appended event, a decimal string.' }),
  })
  .meta({ id: 'CommandResult' });

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
        'order — → 422.',
    }),
  'if-match': z
    .string()
    .optional()
    .meta({ description: 'Run only if the order is at this version, e.g. "3"; else 412.' }),
  'x-correlation-id': z.string().min(1).max(128).optional().meta({
    description:
      "1–128 printable ASCII characters (else 400); kept in the events' metadata and echoed back; generated when absent.",
  }),
});

const commandErrors = (extra: Record<number, string> = {}) =>
  problemResponses({
    400: 'Malformed JSON, failed validation (`errors` lists each bad field), or a bad id or header',
    413: 'Body over 1 MiB',
    415: 'A body that is not JSON',
    422: 'Idempotency-Key reused with another request',
    503: 'Event store unreachable (with Retry-After); nothing was appended',
    ...extra,
  });

const forExistingOrder = {
  404: 'Unknown order',
  409: 'Invalid transition (type ends in /invalid-transition), a limit exceeded, or a conflict that persisted',
  412: 'If-Match does not match the current version',
};

// Confirm takes no body; an empty JSON object is accepted too, anything else is refused like elsewhere.
const ConfirmOrderBody = z.strictObject({}).meta({
  id: 'ConfirmOrderBody',
  description: 'Nothing: send no body, or an empty JSON object.',
});

type CommandOf<T extends OrderCommand['type']> = Extract<OrderCommand, { type: T }>;

export interface CommandRouteDeps {
  commands: CommandBus<OrderCommand, OrderCommandResult>;
  now?: () => Date;
}

/** What the headers say about a command: its Idempotency-Key and the version If-Match pins. */
interface CommandHeaders {
  idempotencyKey: string | undefined;
  expectedVersion: bigint | undefined;
}

const commandHeadersOf = (c: Context): CommandHeaders => ({
  idempotencyKey: printableHeader(c, 'idempotency-key', MAX_IDEMPOTENCY_KEY_LENGTH),
  expectedVersion: ifMatchVersion(c),
});

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

const respond = (c: Context, result: OrderCommandResult, successStatus: 200 | 201): Response => {
  c.header('ETag', `"${result.version}"`);
  if (successStatus === 201) c.header('Location', `/orders/${result.orderId}`);
  if (result.replayed) c.header('Idempotent-Replayed', 'true');
  return c.json(
    { orderId: result.orderId, version: Number(result.version), position: String(result.position) },
    successStatus,
  );
};

export const registerCommandRoutes = (
  app: OpenAPIHono,
  { commands, now = () => new Date() }: CommandRouteDeps,
) => {
  const dispatch = async <T extends OrderCommand['type']>(
    c: Context,
    headers: CommandHeaders,
    type: T,
    orderId: string,
    data: Omit<CommandOf<T>['data'], 'orderId' | 'at'>,
    body: unknown,
  ) => {
    const { idempotencyKey, expectedVersion } = headers;
    const command = {
      type,
      data: { ...data, orderId, at: now().toISOString() },
      metadata: metadataFor(c, idempotencyKey, body),
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
    } as unknown as CommandOf<T>;
    return commands.dispatch(command);
  };
  const orderIdOf = (c: Context) => parseParams(OrderIdParam, { id: c.req.param('id') }, 'path').id;

  const orderCommand = <S extends z.ZodType>(
    method: 'post' | 'put' | 'delete',
    path: string,
    summary: string,
    type: Exclude<OrderCommand['type'], 'PlaceOrder'>,
    schema: S,
    bodyRequired: boolean,
    toData: (body: z.output<S>) => object,
  ) =>
    route(
      app,
      {
        method,
        path,
        summary,
        tags: ['Commands'],
        request: {
          params: OrderIdParam,
          headers: commandHeaders,
          body: { content: { 'application/json': { schema } }, required: bodyRequired },
        },
        responses: {
          200: { description: 'Applied', content: { 'application/json': { schema: CommandResult } } },
          ...commandErrors(forExistingOrder),
        },
      },
      async (c) => {
        const orderId = orderIdOf(c);
        const headers = commandHeadersOf(c);
        const body = await readJsonBody(c, schema, { optional: !bodyRequired });
        const result = await dispatch(c, headers, type, orderId, toData(body) as never, body);
        return respond(c, result, 200);
      },
    );

  route(
    app,
    {
      method: 'post',
      path: '/orders',
      summary: 'Place an order',
      tags: ['Commands'],
      request: {
        headers: commandHeaders,
        body: { content: { 'application/json': { schema: PlaceOrderBody } }, required: true },
      },
      responses: {
        201: {
          description: 'Placed; Location names the order',
          content: { 'application/json': { schema: CommandResult } },
        },
        ...commandErrors({ 409: 'A persistent conflict' }),
      },
    },
    async (c) => {
      const headers = commandHeadersOf(c);
      const body = await readJsonBody(c, PlaceOrderBody);
      // The same key derives the same order id, so a retried place finds the order it created.
      const orderId = entityIdFor('order', headers.idempotencyKey);
      const result = await dispatch(c, headers, 'PlaceOrder', orderId, body, body);
      return respond(c, result, 201);
    },
  );
  orderCommand('post', '/orders/{id}/items', 'Add an item', 'AddItem', AddItemBody, true, (line) => line);
  orderCommand(
    'put',
    '/orders/{id}/shipping-address',
    'Change the shipping address',
    'ChangeShippingAddress',
    AddressBody,
    true,
    (shippingAddress) => ({ shippingAddress }),
  );
  orderCommand(
    'post',
    '/orders/{id}/confirm',
    'Confirm an order',
    'ConfirmOrder',
    ConfirmOrderBody,
    false,
    () => ({}),
  );
  orderCommand(
    'post',
    '/orders/{id}/ship',
    'Ship an order',
    'ShipOrder',
    ShipOrderBody,
    false,
    (body) => body,
  );
  orderCommand(
    'delete',
    '/orders/{id}',
    'Cancel an order',
    'CancelOrder',
    CancelOrderBody,
    false,
    (body) => body,
  );
};

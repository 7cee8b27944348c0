import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { NotFound, ServiceUnavailable } from '../cqrs';
import {
  customerOrdersQuerySchema,
  dailyRevenue,
  dailyRevenueQuerySchema,
  getOrderView,
  listCustomerOrders,
  listOrders,
  orderStream,
  ordersQuerySchema,
} from '../orders';
import type { ReadModelAccess, ReadRequest, Requirement } from '../readmodel';
import { isRedisUnavailable, RedisDeadlineExceeded } from '../redis';
import { OrderIdParam } from './commands';
import { problemResponses, route } from './openapi-route';
import { parseParams } from './request';

const PROJECTIONS = {
  orderView: 'order-view',
  customerOrders: 'customer-orders',
  ordersIndex: 'orders-index',
  dailyRevenue: 'daily-revenue',
} as const;

const minPositionField = {
  minPosition: z
    .string()
    .regex(/^\d{1,20}$/, 'must be a position as a decimal string')
    .optional()
    .meta({
      description:
        'Wait (up to CONSISTENCY_TIMEOUT_MS) until every projection read has processed this position.',
    }),
};
const minVersionField = {
  minVersion: z.coerce
    .number()
    .int('must be a whole number')
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .meta({ description: 'Wait (up to CONSISTENCY_TIMEOUT_MS) until the view reaches this version.' }),
};

const OrderViewSchema = z
  .object({
    orderId: z.uuid(),
    customerId: z.string(),
    status: z.enum(['pending', 'confirmed', 'shipped', 'cancelled']),
    items: z.array(z.object({ sku: z.string(), quantity: z.number().int(), unitPrice: z.number() })),
    totalAmount: z.number(),
    currency: z.string(),
    shippingAddress: z.object({
      line1: z.string(),
      line2: z.string().optional(),
      city: z.string(),
      postalCode: z.string(),
      country: z.string(),
    }),
    trackingNumber: z.string().optional(),
    cancellationReason: z.string().optional(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    version: z.number().int(),
  })
  .meta({ id: 'OrderView' });

const OrderPageSchema = z
  .object({ items: z.array(OrderViewSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'OrderPage' });

const RevenueSchema = z
  .object({
    days: z.array(
      z.object({
        date: z.string(),
        placed: z.number().int(),
        cancelled: z.number().int(),
        shipped: z.number().int(),
        revenue: z.number().meta({
          description:
            'Total of the orders shipped that UTC day, summed in cents across currencies (the report does not convert; ' +
            'a multi-currency shop should read it per currency from its own projection).',
        }),
      }),
    ),
  })
  .meta({ id: 'DailyRevenue' });

const consistencyHeader = {
  'X-Consistency': {
    description:
      'With minVersion/minPosition: `fresh` when reached, `stale` after the timeout (the answer is what is there).',
    schema: { type: 'string' as const, enum: ['fresh', 'stale'] },
  },
};

const queryErrors = problemResponses({
  400: 'A bad parameter, id or cursor (`errors` lists each)',
  503: 'Redis (the read model) is unreachable; with Retry-After',
});

export interface QueryRouteDeps {
  readModel: ReadModelAccess;
  consistencyTimeoutMs: number;
  /** False while Redis is not connected: answer 503 at once instead of waiting. */
  readModelReady: () => boolean;
}

/** Longest a read may take once its consistency wait is over: a Redis that stopped answering is a 503, not a hang. */
const READ_DEADLINE_MS = 2000;

const withDeadline = <T>(work: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisDeadlineExceeded(`no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
};

/** What each projection a query reads must reflect before the answer is `fresh`. */
type Requirements = Map<string, Requirement>;

export const registerQueryRoutes = (app: OpenAPIHono, deps: QueryRouteDeps) => {
  const { readModel, consistencyTimeoutMs } = deps;

  /**
   * Waits as asked, runs the read, and marks the answer fresh or stale; Redis down is a 503. The wait and
   * the read go through one ReadRequest, so they look at the same connection of each projection.
   */
  const answer = async <T>(
    c: Context,
    requirements: Requirements,
    run: (read: ReadRequest) => Promise<T>,
  ): Promise<T> => {
    if (!deps.readModelReady()) throw new ServiceUnavailable('the read model (Redis) is unavailable', 1);
    const read = readModel.request();
    try {
      if (requirements.size > 0) {
        const wait = read.waitFor(requirements, consistencyTimeoutMs);
        c.header('X-Consistency', await withDeadline(wait, consistencyTimeoutMs + READ_DEADLINE_MS));
      }
      return await withDeadline(run(read), READ_DEADLINE_MS);
    } catch (error) {
      if (isRedisUnavailable(error)) throw new ServiceUnavailable('the read model (Redis) is unavailable', 1);
      throw error;
    }
  };
  /** Every projection named must have processed `position` (when one is asked for). */
  const atPosition = (position: string | undefined, projections: string[]): Requirements =>
    new Map(position === undefined ? [] : projections.map((p) => [p, { position: BigInt(position) }]));

  route(
    app,
    {
      method: 'get',
      path: '/orders/{id}',
      summary: 'Read an order',
      tags: ['Queries'],
      request: { params: OrderIdParam, query: z.object({ ...minVersionField, ...minPositionField }) },
      responses: {
        200: {
          description: 'The order view; ETag is its version',
          headers: consistencyHeader,
          content: { 'application/json': { schema: OrderViewSchema } },
        },
        ...problemResponses({ 404: 'Unknown order (or not projected yet: X-Consistency: stale)' }),
        ...queryErrors,
      },
    },
    async (c) => {
      const { id } = parseParams(OrderIdParam, { id: c.req.param('id') }, 'path');
      const query = parseParams(
        z.object({ ...minVersionField, ...minPositionField }),
        c.req.query(),
        'query',
      );
      const requirement: Requirement = {
        ...(query.minPosition === undefined ? {} : { position: BigInt(query.minPosition) }),
        ...(query.minVersion === undefined
          ? {}
          : { stream: { name: orderStream(id), revision: BigInt(query.minVersion) } }),
      };
      const requirements: Requirements = new Map(
        Object.keys(requirement).length === 0 ? [] : [[PROJECTIONS.orderView, requirement]],
      );
      const view = await answer(c, requirements, (read) => getOrderView(read, id));
      if (view === null) throw new NotFound(`order ${id} does not exist`);
      c.header('ETag', `"${view.version}"`);
      return c.json(view);
    },
  );

  const CustomerParam = z.object({
    customerId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1–64 characters of A–Z, a–z, 0–9, "_", "." or "-"'),
  });
  route(
    app,
    {
      method: 'get',
      path: '/customers/{customerId}/orders',
      summary: "A customer's orders, newest first",
      tags: ['Queries'],
      request: { params: CustomerParam, query: customerOrdersQuerySchema.extend(minPositionField) },
      responses: {
        200: {
          description: 'A page',
          headers: consistencyHeader,
          content: { 'application/json': { schema: OrderPageSchema } },
        },
        ...queryErrors,
      },
    },
    async (c) => {
      const { customerId } = parseParams(CustomerParam, { customerId: c.req.param('customerId') }, 'path');
      const query = parseParams(customerOrdersQuerySchema.extend(minPositionField), c.req.query(), 'query');
      const requirements = atPosition(query.minPosition, [PROJECTIONS.customerOrders, PROJECTIONS.orderView]);
      return c.json(
        await answer(c, requirements, (read) => listCustomerOrders(read, { ...query, customerId })),
      );
    },
  );

  route(
    app,
    {
      method: 'get',
      path: '/orders',
      summary: 'All orders, filtered by status and sorted',
      tags: ['Queries'],
      request: { query: ordersQuerySchema.extend(minPositionField) },
      responses: {
        200: {
          description: 'A page',
          headers: consistencyHeader,
          content: { 'application/json': { schema: OrderPageSchema } },
        },
        ...queryErrors,
      },
    },
    async (c) => {
      const query = parseParams(ordersQuerySchema.extend(minPositionField), c.req.query(), 'query');
      const requirements = atPosition(query.minPosition, [PROJECTIONS.ordersIndex, PROJECTIONS.orderView]);
      return c.json(await answer(c, requirements, (read) => listOrders(read, query)));
    },
  );

  const revenueQuery = dailyRevenueQuerySchema.and(z.object(minPositionField));
  route(
    app,
    {
      method: 'get',
      path: '/reports/daily-revenue',
      summary: 'Orders placed, cancelled and shipped, and revenue, per UTC day (at most 366 days)',
      tags: ['Queries'],
      request: {
        query: z.object({
          from: z.string().meta({ description: 'First UTC day, YYYY-MM-DD.', example: '2026-01-01' }),
          to: z.string().meta({
            description: 'Last UTC day (inclusive), YYYY-MM-DD; at most 366 days.',
            example: '2026-01-31',
          }),
          ...minPositionField,
        }),
      },
      responses: {
        200: {
          description: 'Every day of the range',
          headers: consistencyHeader,
          content: { 'application/json': { schema: RevenueSchema } },
        },
        ...queryErrors,
      },
    },
    async (c) => {
      const query = parseParams(revenueQuery, c.req.query(), 'query');
      const requirements = atPosition(query.minPosition, [PROJECTIONS.dailyRevenue]);
      return c.json(await answer(c, requirements, (read) => dailyRevenue(read, query)));
    },
  );
};

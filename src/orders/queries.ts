import { z } from 'zod';
import { decimalInteger, type Query } from '../cqrs/index.js';
import { type Direction, type ReadContext, readSortedSetPage } from '../readmodel/index.js';
import type { OrderStatus } from './events.js';
import { decimalString } from './money.js';
import {
  customerOrdersKeys,
  dailyRevenueKeys,
  orderStatuses,
  ordersIndexKeys,
  orderViewKeys,
  projectionNames,
  type StatusFilter,
} from './projections/index.js';
import { asHash, type OrderPage, type OrderView, toOrderView } from './views.js';

// ---- query parameters (HTTP layer parses with these; read functions take the parsed values) ----

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
export const MAX_REPORT_DAYS = 366;

const dayNumber = (date: string): number => Date.parse(`${date}T00:00:00Z`) / DAY_MS;
/** V8 parses 2023-02-30 as 2023-03-02, so a date is real only if it prints back as itself. */
const isRealDate = (date: string): boolean => {
  const day = dayNumber(date);
  return (
    DATE_PATTERN.test(date) &&
    Number.isFinite(day) &&
    new Date(day * DAY_MS).toISOString().slice(0, 10) === date
  );
};

export const orderStatusSchema = z.enum(orderStatuses).meta({ description: 'Only orders in this status.' });
export const limitSchema = decimalInteger({ min: 1, max: 100 })
  .default(20)
  .meta({ description: 'Page size, 1–100.' });
export const cursorSchema = z
  .string()
  .min(1)
  .max(1000)
  .meta({ description: 'Opaque cursor from the previous page’s `nextCursor`.' });
export const orderSortSchema = z
  .enum(['createdAt', '-createdAt', 'totalAmount', '-totalAmount'])
  .default('-createdAt')
  .meta({ description: 'Sort key; a leading `-` sorts descending. Default newest first.' });
const dateSchema = (description: string) =>
  z.string().refine(isRealDate, 'must be a real date as YYYY-MM-DD').meta({ description });

const pageFields = { limit: limitSchema, cursor: cursorSchema.optional() };
export const customerOrdersQuerySchema = z.object({ status: orderStatusSchema.optional(), ...pageFields });
export const ordersQuerySchema = z.object({
  status: orderStatusSchema.optional(),
  sort: orderSortSchema,
  ...pageFields,
});
export const dailyRevenueQuerySchema = z
  .object({
    from: dateSchema('First UTC day of the report, YYYY-MM-DD.'),
    to: dateSchema('Last UTC day of the report (inclusive), YYYY-MM-DD.'),
  })
  .refine(({ from, to }) => from <= to, { path: ['to'], message: 'must not be before from' })
  .refine(({ from, to }) => dayNumber(to) - dayNumber(from) < MAX_REPORT_DAYS, {
    path: ['to'],
    message: `the report covers at most ${MAX_REPORT_DAYS} days`,
  });

export type OrderSort = z.infer<typeof orderSortSchema>;

/** The views of these orders in one round trip, in the same order; orders without a view are skipped. */
const readViews = async (ctx: ReadContext, orderIds: string[]): Promise<OrderView[]> => {
  if (orderIds.length === 0) return [];
  const { keyOf, redis } = await ctx.projection(projectionNames.orderView);
  if (orderIds.length === 1) {
    const view = toOrderView(asHash(await redis.hGetAll(keyOf(orderViewKeys.order(orderIds[0]!)))));
    return view === null ? [] : [view];
  }
  const multi = orderIds.reduce((m, id) => m.hGetAll(keyOf(orderViewKeys.order(id))), redis.multi());
  const replies = await multi.exec();
  return replies.map((reply) => toOrderView(asHash(reply))).filter((view) => view !== null);
};

export const getOrderView = async (ctx: ReadContext, orderId: string): Promise<OrderView | null> => {
  const [view] = await readViews(ctx, [orderId]);
  return view ?? null;
};

/** A page of a sorted-set index, then the views of its ids. */
const listFromIndex = async (
  ctx: ReadContext,
  index: { projection: string; key: string; list: string; direction: Direction },
  page: { limit: number; cursor?: string | undefined },
): Promise<OrderPage> => {
  const { keyOf, redis } = await ctx.projection(index.projection);
  const { members, nextCursor } = await readSortedSetPage(redis, keyOf(index.key), {
    list: index.list,
    direction: index.direction,
    ...page,
  });
  return { items: await readViews(ctx, members), nextCursor };
};

export interface CustomerOrdersQuery {
  customerId: string;
  status?: OrderStatus | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** A customer's orders, newest first. */
export const listCustomerOrders = (ctx: ReadContext, query: CustomerOrdersQuery): Promise<OrderPage> => {
  const filter: StatusFilter = query.status ?? 'all';
  return listFromIndex(
    ctx,
    {
      projection: projectionNames.customerOrders,
      key: customerOrdersKeys.orders(query.customerId, filter),
      list: `customer:${query.customerId}:${filter}:-createdAt`,
      direction: 'desc',
    },
    query,
  );
};

export interface OrdersQuery {
  status?: OrderStatus | undefined;
  sort: OrderSort;
  limit: number;
  cursor?: string | undefined;
}

/** All orders (or those in one status) by creation time or total. */
export const listOrders = (ctx: ReadContext, query: OrdersQuery): Promise<OrderPage> => {
  const filter: StatusFilter = query.status ?? 'all';
  const byTotal = query.sort.endsWith('totalAmount');
  return listFromIndex(
    ctx,
    {
      projection: projectionNames.ordersIndex,
      key: byTotal ? ordersIndexKeys.byTotal(filter) : ordersIndexKeys.byCreatedAt(filter),
      list: `orders:${filter}:${query.sort}`,
      direction: query.sort.startsWith('-') ? 'desc' : 'asc',
    },
    query,
  );
};

// ---- daily revenue ----

export interface RevenueDay {
  date: string;
  placed: number;
  cancelled: number;
  shipped: number;
  revenue: number;
  revenueDecimal: string;
}

/** Every UTC day from `from` to `to`, both included. */
export const datesBetween = (from: string, to: string): string[] => {
  const dates: string[] = [];
  for (let day = dayNumber(from); day <= dayNumber(to); day++) {
    dates.push(new Date(day * DAY_MS).toISOString().slice(0, 10));
  }
  return dates;
};

const counter = (hash: Record<string, string>, field: string): number => Number(hash[field] ?? 0);

const REVENUE_FIELD = /^revenue:(\d)$/;

/**
 * A day's revenue, exactly: the sums kept per number of decimals, added as BigInts at the largest of them.
 * A generation built by daily-revenue v1 (served while v2 is rebuilt) has `revenueCents`, hundredths.
 */
export const revenueOf = (hash: Record<string, string>): { revenue: number; revenueDecimal: string } => {
  const sums: [minorUnits: number, minor: bigint][] = [];
  for (const [field, value] of Object.entries(hash)) {
    const minorUnits = field === 'revenueCents' ? 2 : Number(REVENUE_FIELD.exec(field)?.[1] ?? Number.NaN);
    if (!Number.isNaN(minorUnits)) sums.push([minorUnits, BigInt(value)]);
  }
  const decimals = sums.length === 0 ? 2 : Math.max(...sums.map(([minorUnits]) => minorUnits));
  const total = sums.reduce(
    (sum, [minorUnits, minor]) => sum + minor * 10n ** BigInt(decimals - minorUnits),
    0n,
  );
  const revenueDecimal = decimalString(total, decimals);
  return { revenue: Number(revenueDecimal), revenueDecimal };
};

/** Counters of every day in the range (zeros where nothing happened), read in one round trip. */
export const readDailyRevenue = async (
  ctx: ReadContext,
  range: { from: string; to: string },
): Promise<{ days: RevenueDay[] }> => {
  const dates = datesBetween(range.from, range.to);
  if (dates.length === 0) return { days: [] };
  const { keyOf, redis } = await ctx.projection(projectionNames.dailyRevenue);
  const multi = dates.reduce((m, date) => m.hGetAll(keyOf(dailyRevenueKeys.day(date))), redis.multi());
  const replies = await multi.exec();
  return {
    days: dates.map((date, i) => {
      const hash = asHash(replies[i]);
      return {
        date,
        placed: counter(hash, 'placed'),
        cancelled: counter(hash, 'cancelled'),
        shipped: counter(hash, 'shipped'),
        ...revenueOf(hash),
      };
    }),
  };
};

// ---- the query messages the QueryBus answers ----

export type GetOrderById = Query<'GetOrderById', { orderId: string }>;
export type ListCustomerOrders = Query<'ListCustomerOrders', CustomerOrdersQuery>;
export type ListOrders = Query<'ListOrders', OrdersQuery>;
export type GetDailyRevenue = Query<'GetDailyRevenue', { from: string; to: string }>;
export type OrderQuery = GetOrderById | ListCustomerOrders | ListOrders | GetDailyRevenue;

/** One handler per query type: GetOrderById → OrderView | null, the lists → OrderPage, the report → its days. */
export const orderQueryHandlers = {
  GetOrderById: (query: GetOrderById, read: ReadContext) => getOrderView(read, query.params.orderId),
  ListCustomerOrders: (query: ListCustomerOrders, read: ReadContext) =>
    listCustomerOrders(read, query.params),
  ListOrders: (query: ListOrders, read: ReadContext) => listOrders(read, query.params),
  GetDailyRevenue: (query: GetDailyRevenue, read: ReadContext) => readDailyRevenue(read, query.params),
};

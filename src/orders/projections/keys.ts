import type { OrderStatus } from '../events.js';

/**
 * Relative keys of the order read models, shared by the projections (writers) and src/orders/queries.ts
 * (readers). The projector prefixes each with `{REDIS_PREFIX}{<projection>}:g<generation>:`.
 * customerId and sku never contain ':' (docs/api.md), so these keys cannot collide.
 */

export const projectionNames = {
  orderView: 'order-view',
  customerOrders: 'customer-orders',
  ordersIndex: 'orders-index',
  dailyRevenue: 'daily-revenue',
} as const;

export const orderStatuses = [
  'pending',
  'confirmed',
  'shipped',
  'cancelled',
] as const satisfies readonly OrderStatus[];

/** `all` is the unfiltered list; a status narrows it. */
export type StatusFilter = OrderStatus | 'all';

export const orderViewKeys = {
  /** Hash: the order view (fields written by projections/order-view.ts). */
  order: (orderId: string): string => `order:${orderId}`,
};

export const customerOrdersKeys = {
  /** Sorted set of a customer's order ids, score = createdAt in ms; `all` or one status. */
  orders: (customerId: string, status: StatusFilter = 'all'): string =>
    status === 'all' ? `customer:${customerId}` : `customer:${customerId}:${status}`,
};

export const ordersIndexKeys = {
  /** Sorted set of order ids, score = createdAt in ms. */
  byCreatedAt: (status: StatusFilter = 'all'): string => `created:${status}`,
  /** Sorted set of order ids, score = total as a decimal amount (19.99). */
  byTotal: (status: StatusFilter = 'all'): string => `total:${status}`,
};

export const dailyRevenueKeys = {
  /**
   * Hash of counters of one UTC day (`YYYY-MM-DD`): placed, cancelled, shipped, and the revenue per number of
   * decimals (`revenue:2` in hundredths, `revenue:0` in whole units…), each an exact 64-bit integer.
   */
  day: (date: string): string => `day:${date}`,
  /** The revenue field of amounts with `minorUnits` decimals. */
  revenueField: (minorUnits: number): string => `revenue:${minorUnits}`,
};

/** Score of a time in the sorted sets; throws on a bad time so the event is parked instead of failing a batch. */
export const epochMs = (iso: string): number => {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new Error(`not an ISO 8601 time: ${JSON.stringify(iso)}`);
  return ms;
};

/** UTC day (`YYYY-MM-DD`) of an ISO 8601 time. */
export const utcDay = (iso: string): string => new Date(epochMs(iso)).toISOString().slice(0, 10);

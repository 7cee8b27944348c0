import { z } from 'zod';
import type { Address, OrderStatus } from './events.js';
import { fromMinor } from './money.js';
import { orderStatuses } from './projections/index.js';

export interface OrderViewItem {
  sku: string;
  quantity: number;
  unitPrice: number;
}

export interface OrderView {
  orderId: string;
  customerId: string;
  status: OrderStatus;
  items: OrderViewItem[];
  totalAmount: number;
  currency: string;
  shippingAddress: Address;
  trackingNumber?: string;
  cancellationReason?: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface OrderPage {
  items: OrderView[];
  nextCursor: string | null;
}

/** A hash as node-redis returns it: a plain object (RESP2 and RESP3 default), a Map if mapped so. */
export const asHash = (reply: unknown): Record<string, string> =>
  reply instanceof Map ? Object.fromEntries(reply) : ((reply ?? {}) as Record<string, string>);

/**
 * The total of a stored view as a decimal. A generation built by order-view v1 (still served while v2 is
 * rebuilt) has `totalCents`, hundredths; v2 has `totalMinor` with its `minorUnits`.
 */
const totalOf = (hash: Record<string, string>): number | undefined => {
  if (hash.totalMinor !== undefined) return fromMinor(Number(hash.totalMinor), Number(hash.minorUnits ?? 2));
  return hash.totalCents === undefined ? undefined : fromMinor(Number(hash.totalCents), 2);
};

/** The view stored by projections/order-view.ts; null while its OrderPlaced fields are not all there. */
export const toOrderView = (hash: Record<string, string>): OrderView | null => {
  const { orderId, customerId, status, items, currency, shippingAddress } = hash;
  const totalAmount = totalOf(hash);
  const { createdAt, updatedAt, version, trackingNumber, cancellationReason } = hash;
  if (
    !orderId ||
    !customerId ||
    !status ||
    !items ||
    totalAmount === undefined ||
    !currency ||
    !shippingAddress
  )
    return null;
  if (!createdAt || !updatedAt || !version) return null;
  return {
    orderId,
    customerId,
    status: status as OrderStatus,
    items: JSON.parse(items) as OrderViewItem[],
    totalAmount,
    currency,
    shippingAddress: JSON.parse(shippingAddress) as Address,
    ...(trackingNumber === undefined ? {} : { trackingNumber }),
    ...(cancellationReason === undefined ? {} : { cancellationReason }),
    createdAt,
    updatedAt,
    version: Number(version),
  };
};

// ---- the views as the HTTP contract describes them ----

export const OrderViewSchema = z
  .object({
    orderId: z.uuid(),
    customerId: z.string(),
    status: z.enum(orderStatuses),
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

export const OrderPageSchema = z
  .object({ items: z.array(OrderViewSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'OrderPage' });

export const RevenueSchema = z
  .object({
    days: z.array(
      z.object({
        date: z.string(),
        placed: z.number().int(),
        cancelled: z.number().int(),
        shipped: z.number().int(),
        revenue: z.number().meta({
          description:
            'Total of the orders shipped that UTC day, added up across currencies at face value (the report does ' +
            'not convert; a multi-currency shop should read it per currency from its own projection). A JSON ' +
            'number: past 2^53 minor units it may lose digits that revenueDecimal keeps.',
        }),
        revenueDecimal: z.string().meta({
          description:
            'The same total as an exact decimal string, with as many decimals as the largest minor unit that day.',
          example: '1234.50',
        }),
      }),
    ),
  })
  .meta({ id: 'DailyRevenue' });

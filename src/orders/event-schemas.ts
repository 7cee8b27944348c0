// Versions of the order events, and the upcasters that turn what older code wrote into the current shape.
import { z } from 'zod';
import { createUpcaster, type EventSchema, type EventSchemas } from '../cqrs';
import type { Address, OrderEvent, OrderEventType, OrderLine } from './events';
import { totalCentsOf } from './order';

/** OrderPlaced as the first design wrote it: float dollar prices, a free-form address, no currency or total. */
const OrderPlacedV1 = z.object({
  orderId: z.string(),
  customerId: z.string(),
  items: z.array(z.object({ sku: z.string(), quantity: z.number(), price: z.number() })),
  address: z.string(),
  placedAt: z.string(),
});
export type OrderPlacedV1 = z.output<typeof OrderPlacedV1>;
type OrderPlacedV2 = Extract<OrderEvent, { type: 'OrderPlaced' }>['data'];

/** "10115 Berlin" or "Springfield 12345" → city and postal code; anything else is all city. */
const splitCityAndPostalCode = (text: string): { city: string; postalCode: string } => {
  const codeFirst = /^(\d[\w-]*)\s+(.+)$/.exec(text);
  if (codeFirst) return { postalCode: codeFirst[1]!, city: codeFirst[2]! };
  const codeLast = /^(.+?)\s+([\w-]*\d[\w-]*)$/.exec(text);
  if (codeLast) return { city: codeLast[1]!, postalCode: codeLast[2]! };
  return { city: text, postalCode: '' };
};

// v1 wrote whatever the client sent; a two-letter country is the common case and is stored uppercase.
const normalizeCountry = (text: string): string => (/^[A-Za-z]{2}$/.test(text) ? text.toUpperCase() : text);

/**
 * Best-effort parse of v1's "line1, city, postalCode, country": the last part is the country, then the
 * postal code, then the city, and whatever is left is line1 (so a comma inside line1 survives). With only
 * three parts the middle one is read as "city postalCode"; a part that cannot be placed stays in line1.
 */
export const parseFreeFormAddress = (text: string): Address => {
  const parts = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (parts.length < 2) return { line1: parts[0] ?? '', city: '', postalCode: '', country: '' };
  const country = normalizeCountry(parts.pop()!);
  if (parts.length === 1) return { line1: parts[0]!, city: '', postalCode: '', country };
  if (parts.length === 2) return { line1: parts[0]!, ...splitCityAndPostalCode(parts[1]!), country };
  const postalCode = parts.pop()!;
  const city = parts.pop()!;
  return { line1: parts.join(', '), city, postalCode, country };
};

export const upcastOrderPlacedV1 = (data: unknown): OrderPlacedV2 => {
  const parsed = OrderPlacedV1.safeParse(data);
  if (!parsed.success) throw new Error(`OrderPlaced v1 is malformed: ${z.prettifyError(parsed.error)}`);
  const { orderId, customerId, address, placedAt } = parsed.data;
  const items: OrderLine[] = parsed.data.items.map(({ sku, quantity, price }) => ({
    sku,
    quantity,
    unitPriceCents: Math.round(price * 100),
  }));
  return {
    orderId,
    customerId,
    items,
    shippingAddress: parseFreeFormAddress(address),
    // v1 had no currency field: every order it wrote was priced in dollars.
    currency: 'USD',
    totalCents: totalCentsOf(items),
    placedAt,
  };
};

export const orderEventSchemas: EventSchemas = {
  OrderPlaced: { current: 2, steps: { 1: upcastOrderPlacedV1 } },
  OrderItemAdded: { current: 1 },
  ShippingAddressChanged: { current: 1 },
  OrderConfirmed: { current: 1 },
  OrderShipped: { current: 1 },
  OrderCancelled: { current: 1 },
} satisfies Record<OrderEventType, EventSchema>;

/** What every reader of order streams (aggregate load, projections) passes each event through. */
export const upcastOrderEvent = createUpcaster(orderEventSchemas);

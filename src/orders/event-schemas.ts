// Versions of the order events, and the upcasters that turn what older code wrote into the current shape.
import { z } from 'zod';
import { createUpcaster, type EventSchema, type EventSchemas } from '../cqrs/index.js';
import type { Address, OrderEvent, OrderEventType, OrderLine } from './events.js';

/** OrderPlaced as the first design wrote it: float dollar prices, a free-form address, no currency or total. */
const OrderPlacedV1 = z.object({
  orderId: z.string(),
  customerId: z.string(),
  items: z.array(z.object({ sku: z.string(), quantity: z.number(), price: z.number() })),
  address: z.string(),
  placedAt: z.string(),
});
export type OrderPlacedV1 = z.output<typeof OrderPlacedV1>;

/** A line as v2 of OrderPlaced and v1 of OrderItemAdded wrote it: prices in hundredths of any currency. */
interface CentsLine {
  sku: string;
  quantity: number;
  unitPriceCents: number;
}

/** OrderPlaced v2: structured address and currency, amounts in hundredths whatever the currency. */
type OrderPlacedV2 = Omit<
  Extract<OrderEvent, { type: 'OrderPlaced' }>['data'],
  'items' | 'minorUnits' | 'totalMinor'
> & {
  items: CentsLine[];
  totalCents: number;
};

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
  const items: CentsLine[] = parsed.data.items.map(({ sku, quantity, price }) => ({
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
    totalCents: items.reduce((total, line) => total + line.quantity * line.unitPriceCents, 0),
    placedAt,
  };
};

/** What every money-carrying event before minor units has: a total in hundredths. */
const WithTotalCents = z.looseObject({
  totalCents: z.number().int(),
  items: z.array(z.looseObject({ unitPriceCents: z.number().int() })).optional(),
  unitPriceCents: z.number().int().optional(),
});

const linesInMinorUnits = (items: readonly CentsLine[]): OrderLine[] =>
  items.map(({ unitPriceCents, ...line }) => ({ ...line, unitPriceMinor: unitPriceCents }));

/**
 * Amounts in hundredths → amounts in the order's minor unit, at 2 decimals: the exact same values, whatever
 * the currency. Later events of the order carry no currency, so converting to the currency's own unit here
 * could not be done for them; the order keeps the unit it was placed with (see `minorUnits`).
 */
export const upcastHundredths =
  (type: OrderEventType) =>
  (data: unknown): Record<string, unknown> => {
    const parsed = WithTotalCents.safeParse(data);
    if (!parsed.success)
      throw new Error(`${type} with amounts in cents is malformed: ${z.prettifyError(parsed.error)}`);
    const { totalCents, items, unitPriceCents, ...rest } = parsed.data;
    return {
      ...rest,
      ...(items === undefined ? {} : { items: linesInMinorUnits(items as unknown as CentsLine[]) }),
      ...(unitPriceCents === undefined ? {} : { unitPriceMinor: unitPriceCents }),
      minorUnits: 2,
      totalMinor: totalCents,
    };
  };

export const orderEventSchemas: EventSchemas = {
  OrderPlaced: { current: 3, steps: { 1: upcastOrderPlacedV1, 2: upcastHundredths('OrderPlaced') } },
  OrderItemAdded: { current: 2, steps: { 1: upcastHundredths('OrderItemAdded') } },
  ShippingAddressChanged: { current: 2, steps: { 1: upcastHundredths('ShippingAddressChanged') } },
  OrderConfirmed: { current: 2, steps: { 1: upcastHundredths('OrderConfirmed') } },
  OrderShipped: { current: 2, steps: { 1: upcastHundredths('OrderShipped') } },
  OrderCancelled: { current: 2, steps: { 1: upcastHundredths('OrderCancelled') } },
} satisfies Record<OrderEventType, EventSchema>;

/** What every reader of order streams (aggregate load, projections) passes each event through. */
export const upcastOrderEvent = createUpcaster(orderEventSchemas);

import { z } from 'zod';
import type { Command } from '../cqrs';
import type { StreamRevision } from '../eventstore';
import type { Address, OrderLine } from './events';
import { COUNTRY_CODES, CURRENCY_CODES } from './iso-codes';

// ── Limits (docs/api.md): the domain enforces the ones a sequence of valid commands could break. ──
export const MAX_LINES_PER_ORDER = 100;
export const MAX_QUANTITY_PER_LINE = 10_000;
export const MAX_UNIT_PRICE = 1_000_000;

// ── Money ──

/**
 * True when a price is exactly a whole number of cents: finite, ×100 integral (within 1e-9 relative,
 * for float noise) and written with at most 2 decimals in its shortest form (so 1e-7 and 0.1+0.2 fail).
 */
export const hasAtMostTwoDecimals = (amount: number): boolean => {
  if (!Number.isFinite(amount)) return false;
  const scaled = amount * 100;
  if (Math.abs(Math.round(scaled) - scaled) > 1e-9 * Math.max(1, Math.abs(scaled))) return false;
  return /^-?\d+(\.\d{1,2})?$/.test(String(amount));
};

/** Dollars (or euros…) to integer cents; `+ 0` turns -0 into 0. */
export const toCents = (amount: number): number => Math.round(amount * 100) + 0;

// ── Field schemas ──

const identifier = (what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, `${what} must be 1–64 characters of A–Z, a–z, 0–9, "_", "." or "-"`);

const quantity = z
  .number()
  .int('must be an integer')
  .min(1, 'must be at least 1')
  .max(MAX_QUANTITY_PER_LINE, `must be at most ${MAX_QUANTITY_PER_LINE}`);

const unitPrice = z
  .number()
  .min(0, 'must not be negative')
  .max(MAX_UNIT_PRICE, `must be at most ${MAX_UNIT_PRICE}`)
  .refine(hasAtMostTwoDecimals, 'must have at most 2 decimals')
  .meta({ description: 'Price of one unit, a decimal number with at most 2 decimals.', example: 19.99 });

/** Text a person typed: surrounding whitespace is dropped before the length is checked. */
const trimmedText = (max: number) =>
  z.string().trim().min(1, 'must not be blank').max(max, `must be at most ${max} characters`);

// Case-insensitive on input, uppercase on output: "de" and "DE" are the same country.
const countryCode = z
  .string()
  .trim()
  .toUpperCase()
  .refine((code) => COUNTRY_CODES.has(code), 'must be an ISO 3166-1 alpha-2 country code, e.g. "US" or "DE"')
  .meta({
    description: 'ISO 3166-1 alpha-2 code; lowercase is accepted and stored uppercase.',
    example: 'DE',
  });

const currencyCode = z
  .string()
  .trim()
  .toUpperCase()
  .refine((code) => CURRENCY_CODES.has(code), 'must be an active ISO 4217 currency code, e.g. "USD" or "EUR"')
  .default('USD')
  .meta({ description: 'ISO 4217 code; lowercase is accepted and stored uppercase.', example: 'EUR' });

// ── Bodies. Objects are strict: an unknown field (a typo like `unit_price`) is a 400, not silently ignored. ──

const orderLine = z
  .strictObject({ sku: identifier('sku'), quantity, unitPrice })
  .transform(({ unitPrice, ...line }): OrderLine => ({ ...line, unitPriceCents: toCents(unitPrice) }));

export const AddItemBody = orderLine.meta({
  id: 'AddItemBody',
  description:
    'A line to add. The same sku at the same unit price adds to that line; otherwise it is a new line.',
  example: { sku: 'SKU-1', quantity: 2, unitPrice: 19.99 },
});

export const AddressBody = z
  .strictObject({
    line1: trimmedText(200),
    line2: trimmedText(200).optional(),
    city: trimmedText(100),
    postalCode: trimmedText(20),
    country: countryCode,
  })
  .meta({
    id: 'Address',
    description: 'A shipping address. Text fields are trimmed; line2 may be omitted but not blank.',
    example: { line1: '1 Main Street', city: 'Berlin', postalCode: '10115', country: 'DE' },
  });

export const PlaceOrderBody = z
  .strictObject({
    customerId: identifier('customerId'),
    items: z
      .array(orderLine)
      .min(1, 'an order needs at least 1 item')
      .max(MAX_LINES_PER_ORDER, `an order has at most ${MAX_LINES_PER_ORDER} items`),
    shippingAddress: AddressBody,
    currency: currencyCode,
  })
  .meta({
    id: 'PlaceOrderBody',
    description: 'A new order. Items with the same sku and unit price are merged into one line.',
    example: {
      customerId: 'customer-42',
      items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 19.99 }],
      shippingAddress: { line1: '1 Main Street', city: 'Berlin', postalCode: '10115', country: 'DE' },
      currency: 'EUR',
    },
  });

export const ShipOrderBody = z
  .strictObject({
    trackingNumber: trimmedText(100)
      .regex(/^[\x20-\x7E]+$/, 'must be printable ASCII characters')
      .optional(),
  })
  .meta({
    id: 'ShipOrderBody',
    description: "The carrier's tracking number, if there is one.",
    example: { trackingNumber: '1Z999AA10123456784' },
  });

export const CancelOrderBody = z
  .strictObject({
    reason: z.string().trim().max(500, 'must be at most 500 characters').optional(),
  })
  .meta({
    id: 'CancelOrderBody',
    description: 'Why the order is cancelled (optional; a blank reason is the same as none).',
    example: { reason: 'customer changed their mind' },
  });

// Confirm takes no body; an empty JSON object is accepted too, anything else is refused like elsewhere.
export const ConfirmOrderBody = z.strictObject({}).meta({
  id: 'ConfirmOrderBody',
  description: 'Nothing: send no body, or an empty JSON object.',
});

export type PlaceOrderBody = z.output<typeof PlaceOrderBody>;
export type AddItemBody = z.output<typeof AddItemBody>;
export type AddressBody = z.output<typeof AddressBody>;
export type ShipOrderBody = z.output<typeof ShipOrderBody>;
export type CancelOrderBody = z.output<typeof CancelOrderBody>;

// ── Commands: what the HTTP layer dispatches. The domain has no clock: `at` is set by whoever sends it. ──

export interface OrderCommandTarget {
  orderId: string;
  /** ISO 8601 time the command was received. */
  at: string;
}

/** Per-dispatch options ride on the command, so they pass through the generic bus untouched. */
export interface OrderDispatchOptions {
  /** From If-Match: apply only if the order stream is at this revision (else 412, and no retries). */
  expectedVersion?: StreamRevision;
}

type OrderCommandOf<T extends string, D> = Command<T, D & OrderCommandTarget> & OrderDispatchOptions;

export type PlaceOrder = OrderCommandOf<
  'PlaceOrder',
  { customerId: string; items: OrderLine[]; shippingAddress: Address; currency: string }
>;
export type AddItem = OrderCommandOf<'AddItem', OrderLine>;
export type ChangeShippingAddress = OrderCommandOf<'ChangeShippingAddress', { shippingAddress: Address }>;
export type ConfirmOrder = OrderCommandOf<'ConfirmOrder', Record<never, never>>;
export type ShipOrder = OrderCommandOf<'ShipOrder', { trackingNumber?: string }>;
export type CancelOrder = OrderCommandOf<'CancelOrder', { reason?: string }>;

export type OrderCommand =
  | PlaceOrder
  | AddItem
  | ChangeShippingAddress
  | ConfirmOrder
  | ShipOrder
  | CancelOrder;
export type OrderCommandType = OrderCommand['type'];

import { z } from 'zod';
import type { Command, ExpectedVersion } from '../cqrs';
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

/** ISO 4217 minor units of the currencies where they are not 2 (JPY has none, KWD three). */
const MINOR_UNITS: Readonly<Record<string, number>> = {
  ...Object.fromEntries(
    'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF'.split(' ').map((c) => [c, 0]),
  ),
  ...Object.fromEntries('BHD IQD JOD KWD LYD OMR TND'.split(' ').map((c) => [c, 3])),
  CLF: 4,
  UYW: 4,
};

export const minorUnitsOf = (currency: string): number => MINOR_UNITS[currency] ?? 2;

/**
 * Decimals a price may have in `currency`: its ISO 4217 minor units, at most 2 — amounts are kept in
 * hundredths of the currency's unit (`unitPriceCents`), so a third decimal (KWD 1.234) would be lost and is
 * refused rather than rounded.
 */
export const priceDecimalsOf = (currency: string): number => Math.min(minorUnitsOf(currency), 2);

/** True when an amount in hundredths is a whole number of the currency's minor unit (no JPY 1.5). */
export const fitsCurrency = (cents: number, currency: string): boolean =>
  cents % 10 ** (2 - priceDecimalsOf(currency)) === 0;

export const decimalsMessage = (currency: string): string => {
  const decimals = priceDecimalsOf(currency);
  return decimals === 0
    ? `must be a whole number in ${currency}`
    : `must have at most ${decimals} decimals in ${currency}`;
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

// C0 and C1 controls and DEL; tab is allowed only where `allowTab` says so.
const CONTROLS = /\p{Cc}/u;
// Bidi embeddings, overrides and isolates: they make the text shown differ from the text stored.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Characters with no width: text made only of them (and spaces) is blank to a reader.
const INVISIBLE = /[\s\u200B-\u200D\u2060\uFEFF\u00AD]/g;

/**
 * Text a person typed, as the event keeps it and every view shows it: well-formed UTF-16 (a lone surrogate
 * would be stored as such and shown as U+FFFD), no control characters (tab only where `allowTab`), no bidi
 * overrides, and not blank once invisible characters are left out. Surrounding whitespace is dropped first.
 */
const text = (max: number, { allowTab = false, optionalBlank = false } = {}) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .superRefine((value, ctx) => {
      const fail = (message: string) => ctx.addIssue({ code: 'custom', message });
      if (LONE_SURROGATE.test(value)) return fail('must be well-formed Unicode (no lone surrogate)');
      if (CONTROLS.test(allowTab ? value.replaceAll('\t', '') : value))
        return fail(`must not contain control characters${allowTab ? ' (tab aside)' : ''}`);
      if (BIDI_CONTROLS.test(value)) return fail('must not contain bidi override or isolate characters');
      if (!optionalBlank && value.replace(INVISIBLE, '') === '') return fail('must not be blank');
    });

/** Text a person typed that must say something: surrounding whitespace is dropped before the length is checked. */
const trimmedText = (max: number) => text(max);

/** Free text that may be blank, which means "none": invisible-only text becomes the empty string. */
const optionalText = (max: number) =>
  text(max, { allowTab: true, optionalBlank: true }).transform((value) =>
    value.replace(INVISIBLE, '') === '' ? '' : value,
  );

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
  .superRefine(({ items, currency }, ctx) => {
    // Only once the lines and the currency are each valid: a bad field is reported once, by its own check.
    if (!CURRENCY_CODES.has(currency)) return;
    items.forEach((line, i) => {
      if (Number.isInteger(line?.unitPriceCents) && !fitsCurrency(line.unitPriceCents, currency))
        ctx.addIssue({ code: 'custom', path: ['items', i, 'unitPrice'], message: decimalsMessage(currency) });
    });
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
    reason: optionalText(500).optional(),
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
  expectedVersion?: ExpectedVersion;
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

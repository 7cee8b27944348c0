import { z } from 'zod';
import type { Command, ExpectedVersion } from '../cqrs/index.js';
import type { Address } from './events.js';
import { COUNTRY_CODES, CURRENCY_CODES } from './iso-codes.js';
import { decimalsMessage, hasAtMostDecimals, MAX_MINOR_UNITS, minorUnitsOf } from './money.js';

// ── Limits (docs/api.md): the domain enforces the ones a sequence of valid commands could break. ──
export const MAX_LINES_PER_ORDER = 100;
export const MAX_QUANTITY_PER_LINE = 10_000;
export const MAX_UNIT_PRICE = 1_000_000;

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
  .refine(
    (price) => hasAtMostDecimals(price, MAX_MINOR_UNITS),
    `must have at most as many decimals as the currency's minor unit (USD 2, JPY 0, KWD 3; never over ${MAX_MINOR_UNITS})`,
  )
  .meta({
    description:
      "Price of one unit, a decimal number with at most as many decimals as the currency's ISO 4217 minor " +
      'unit (USD 2, JPY 0, KWD 3).',
    example: 19.99,
  });

// C0 and C1 controls, DEL, and the line and paragraph separators (a newline by another name); tab is
// allowed only where `allowTab` says so.
const CONTROLS = /[\p{Cc}\p{Zl}\p{Zp}]/u;
// Bidi embeddings, overrides, isolates and marks: they make the text shown differ from the text stored.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Characters a reader does not see: spaces, Unicode's default-ignorable code points (zero-width characters,
// invisible operators, tags, fillers) and the blank Braille pattern. Text made only of them is blank.
const INVISIBLE = /[\s\p{Default_Ignorable_Code_Point}\u2800]/gu;

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

/** A line as the client sends it: the price stays a decimal until the order's currency says its unit. */
const orderLine = z.strictObject({ sku: identifier('sku'), quantity, unitPrice });
export type PricedLine = z.output<typeof orderLine>;

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
    const decimals = minorUnitsOf(currency);
    items.forEach((line, i) => {
      if (typeof line?.unitPrice === 'number' && !hasAtMostDecimals(line.unitPrice, decimals)) {
        const message = decimalsMessage(decimals, currency);
        ctx.addIssue({ code: 'custom', path: ['items', i, 'unitPrice'], message });
      }
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
  { customerId: string; items: PricedLine[]; shippingAddress: Address; currency: string }
>;
export type AddItem = OrderCommandOf<'AddItem', PricedLine>;
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

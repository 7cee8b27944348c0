import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { parseOrThrow, ValidationFailed } from '../../src/cqrs';
import {
  type AddItem,
  AddItemBody,
  AddressBody,
  type CancelOrder,
  CancelOrderBody,
  type ChangeShippingAddress,
  hasAtMostDecimals,
  minorUnitsOf,
  type PlaceOrder,
  PlaceOrderBody,
  type ShipOrder,
  ShipOrderBody,
  toMinor,
} from '../../src/orders';

const address = { line1: '1 Main Street', city: 'Springfield', postalCode: '12345', country: 'US' };
const line = { sku: 'SKU-1', quantity: 2, unitPrice: 19.99 };
const order = { customerId: 'customer-1', items: [line], shippingAddress: address };

/** Paths of the errors a body gets, or [] when it is valid. */
const errorPathsOf = (schema: z.ZodType, body: unknown): string[] => {
  try {
    parseOrThrow(schema, body);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationFailed)) throw error;
    return error.errors.map((e) => e.path);
  }
};

const withItem = (patch: Record<string, unknown>) => ({ ...order, items: [{ ...line, ...patch }] });
const withAddress = (patch: Record<string, unknown>) => ({
  ...order,
  shippingAddress: { ...address, ...patch },
});

describe('PlaceOrderBody', () => {
  it('turns a valid body into the command data: default currency, codes uppercased, text trimmed', () => {
    const parsed = PlaceOrderBody.parse({
      ...order,
      items: [line, { sku: 'b.2_x-Y', quantity: 1, unitPrice: 0.29 }],
      shippingAddress: { ...address, line1: '  1 Main Street ', country: 'us' },
    });
    expect(parsed).toEqual({
      customerId: 'customer-1',
      items: [
        { sku: 'SKU-1', quantity: 2, unitPrice: 19.99 },
        { sku: 'b.2_x-Y', quantity: 1, unitPrice: 0.29 },
      ],
      shippingAddress: { line1: '1 Main Street', city: 'Springfield', postalCode: '12345', country: 'US' },
      currency: 'USD',
    });
  });

  it.each([
    ['customerId', { ...order, customerId: '' }],
    ['customerId', { ...order, customerId: 'x'.repeat(65) }],
    ['customerId', { ...order, customerId: 'has space' }],
    ['customerId', { ...order, customerId: 'müller' }],
    ['customerId', { ...order, customerId: 42 }],
    ['customerId', { items: [line], shippingAddress: address }],
    ['items', { ...order, items: [] }],
    ['items', { ...order, items: Array.from({ length: 101 }, () => line) }],
    ['items', { ...order, items: line }],
    ['items.0.sku', withItem({ sku: 'a/b' })],
    ['items.0.sku', withItem({ sku: '' })],
    ['items.0.quantity', withItem({ quantity: 0 })],
    ['items.0.quantity', withItem({ quantity: 10_001 })],
    ['items.0.quantity', withItem({ quantity: 1.5 })],
    ['items.0.quantity', withItem({ quantity: '2' })],
    ['items.0.unitPrice', withItem({ unitPrice: -0.01 })],
    ['items.0.unitPrice', withItem({ unitPrice: 1_000_000.01 })],
    ['items.0.unitPrice', withItem({ unitPrice: 1.001 })],
    ['items.0.unitPrice', withItem({ unitPrice: 1e-7 })],
    ['items.0.unitPrice', withItem({ unitPrice: '19.99' })],
    ['items.0.unitPrice', withItem({ unitPrice: Number.NaN })],
    ['items.0.unitPrice', withItem({ unitPrice: null })],
    ['shippingAddress', { ...order, shippingAddress: '1 Main Street, Springfield' }],
    ['shippingAddress.line1', withAddress({ line1: '   ' })],
    ['shippingAddress.line1', withAddress({ line1: 'x'.repeat(201) })],
    ['shippingAddress.line2', withAddress({ line2: '' })],
    ['shippingAddress.city', withAddress({ city: 'x'.repeat(101) })],
    ['shippingAddress.postalCode', withAddress({ postalCode: 'x'.repeat(21) })],
    ['shippingAddress.country', withAddress({ country: 'XX' })],
    ['shippingAddress.country', withAddress({ country: 'UK' })],
    ['shippingAddress.country', withAddress({ country: 'EU' })],
    ['shippingAddress.country', withAddress({ country: 'USA' })],
    ['currency', { ...order, currency: 'XXX' }],
    ['currency', { ...order, currency: 'HRK' }],
    ['currency', { ...order, currency: 'dollars' }],
    ['currency', { ...order, currency: null }],
    ['extra', { ...order, extra: true }],
    ['items.0.price', withItem({ price: 1 })],
    ['shippingAddress.line3', withAddress({ line3: 'x' })],
  ])('reports %s as invalid', (path, body) => {
    expect(errorPathsOf(PlaceOrderBody, body)).toEqual([path]);
  });

  it('names the minor units for a price with more decimals than any currency has (0.1 + 0.2)', () => {
    const result = PlaceOrderBody.safeParse(withItem({ unitPrice: 0.1 + 0.2 }));
    // The first issue of a field is the one a client gets (fieldErrorsOf).
    expect(result.error?.issues[0]?.message).toBe(
      "must have at most as many decimals as the currency's minor unit (USD 2, JPY 0, KWD 3; never over 4)",
    );
  });

  it.each([
    ['the longest customerId', { ...order, customerId: 'x'.repeat(64) }],
    ['100 items', { ...order, items: Array.from({ length: 100 }, () => line) }],
    [
      'quantity 1 and 10000',
      { ...order, items: [withItem({ quantity: 1 }).items[0], { ...line, quantity: 1e4 }] },
    ],
    ['a free item', withItem({ unitPrice: 0 })],
    ['the highest price', withItem({ unitPrice: 1_000_000 })],
    ['a one-cent price', withItem({ unitPrice: 0.01 })],
    ['line2', withAddress({ line2: 'Apt 4' })],
    [
      '200/100/20 character address fields',
      withAddress({ line1: 'x'.repeat(200), city: 'y'.repeat(100), postalCode: 'z'.repeat(20) }),
    ],
    ['a lowercase country', withAddress({ country: 'gb' })],
    ['a lowercase currency', { ...order, currency: 'eur' }],
    ['a currency of the Eastern Caribbean', { ...order, currency: 'XCD' }],
  ])('accepts %s', (_, body) => {
    expect(errorPathsOf(PlaceOrderBody, body)).toEqual([]);
  });

  it('lists every bad field at once, each with its own path and message', () => {
    const error = (() => {
      try {
        parseOrThrow(PlaceOrderBody, {
          customerId: '',
          items: [line, { sku: 'ok', quantity: 0, unitPrice: 1.23456 }],
          shippingAddress: { ...address, country: 'ZZ', zip: '1' },
          currency: 'ABC',
        });
      } catch (thrown) {
        return thrown as ValidationFailed;
      }
    })();
    expect(error).toBeInstanceOf(ValidationFailed);
    expect(error?.status).toBe(400);
    expect(error?.errors.map((e) => e.path).sort()).toEqual(
      [
        'customerId',
        'items.1.quantity',
        'items.1.unitPrice',
        'shippingAddress.zip',
        'shippingAddress.country',
        'currency',
      ].sort(),
    );
    expect(error?.errors.every((e) => e.message.length > 0)).toBe(true);
    expect(error?.errors.find((e) => e.path === 'shippingAddress.zip')?.message).toBe('unknown field');
    expect(error?.message).toContain('items.1.quantity');
  });

  it('reports a body that is not an object at the empty path', () => {
    expect(errorPathsOf(PlaceOrderBody, [])).toEqual(['']);
  });
});

describe('unit prices: as many decimals as the minor unit, checked robustly', () => {
  it.each([0, 0.01, 0.1, 0.29, 1, 19.99, 999_999.99, 1_000_000, 0.07, 1.1])(
    '%s has at most 2 decimals',
    (x) => {
      expect(hasAtMostDecimals(x, 2)).toBe(true);
    },
  );

  it.each([0.001, 1e-7, 1.005, 0.1 + 0.2, 19.999, Number.NaN, Number.POSITIVE_INFINITY, 1e21 + 0.5])(
    '%s has not',
    (x) => {
      expect(hasAtMostDecimals(x, 2)).toBe(false);
    },
  );

  it.each([
    [1.5, 0, false],
    [1500, 0, true],
    [1.234, 3, true],
    [1.2345, 3, false],
    [0.0001, 4, true],
    [999_999.999, 3, true],
  ])('%s with %s decimals allowed: %s', (x, decimals, ok) => {
    expect(hasAtMostDecimals(x, decimals)).toBe(ok);
  });

  it.each([
    ['JPY', 0],
    ['KRW', 0],
    ['USD', 2],
    ['EUR', 2],
    ['KWD', 3],
    ['BHD', 3],
    ['CLF', 4],
  ])('%s has %s decimals (ISO 4217)', (currency, decimals) => {
    expect(minorUnitsOf(currency)).toBe(decimals);
  });

  it.each([
    [0.29, 2, 29],
    [19.99, 2, 1999],
    [1234.56, 2, 123456],
    [999_999.99, 2, 99_999_999],
    [0.07, 2, 7],
    [1.234, 3, 1234],
    [999_999.999, 3, 999_999_999],
    [1500, 0, 1500],
  ])('%s at %s decimals is %s minor units exactly', (unitPrice, decimals, minor) => {
    expect(toMinor(unitPrice, decimals)).toBe(minor);
  });

  it("keeps the decimal price in the command: the order's currency decides its unit", () => {
    expect(AddItemBody.parse({ sku: 'A', quantity: 1, unitPrice: 1.234 })).toEqual({
      sku: 'A',
      quantity: 1,
      unitPrice: 1.234,
    });
  });
});

describe('AddItemBody', () => {
  it.each([
    ['sku', { quantity: 1, unitPrice: 1 }],
    ['quantity', { sku: 'A', unitPrice: 1 }],
    ['unitPrice', { sku: 'A', quantity: 1 }],
    ['unitPriceCents', { sku: 'A', quantity: 1, unitPrice: 1, unitPriceCents: 100 }],
  ])('reports %s', (path, body) => {
    expect(errorPathsOf(AddItemBody, body)).toEqual([path]);
  });
});

describe('AddressBody', () => {
  it('keeps line2 only when given', () => {
    expect(AddressBody.parse(address)).not.toHaveProperty('line2');
    expect(AddressBody.parse({ ...address, line2: ' Apt 4 ' })).toMatchObject({ line2: 'Apt 4' });
  });

  it('requires every field but line2', () => {
    expect(errorPathsOf(AddressBody, {}).sort()).toEqual(['city', 'country', 'line1', 'postalCode']);
  });
});

describe('ShipOrderBody', () => {
  it.each([{}, { trackingNumber: '1Z999AA10123456784' }, { trackingNumber: 'x'.repeat(100) }])(
    'accepts %j',
    (body) => {
      expect(errorPathsOf(ShipOrderBody, body)).toEqual([]);
    },
  );

  it.each([
    { trackingNumber: '' },
    { trackingNumber: '  ' },
    { trackingNumber: 'x'.repeat(101) },
    { trackingNumber: 'AB\u0007CD' },
    { trackingNumber: 'ÄÖÜ' },
    { trackingNumber: 12 },
  ])('refuses %j', (body) => {
    expect(errorPathsOf(ShipOrderBody, body)).toEqual(['trackingNumber']);
  });

  it('refuses unknown fields', () => {
    expect(errorPathsOf(ShipOrderBody, { carrier: 'UPS' })).toEqual(['carrier']);
  });
});

describe('CancelOrderBody', () => {
  it.each([{}, { reason: '' }, { reason: 'x'.repeat(500) }])('accepts %j', (body) => {
    expect(errorPathsOf(CancelOrderBody, body)).toEqual([]);
  });

  it.each([{ reason: 'x'.repeat(501) }, { reason: 5 }])('refuses %j', (body) => {
    expect(errorPathsOf(CancelOrderBody, body)).toEqual(['reason']);
  });
});

describe('bodies fit the commands the HTTP layer builds from them', () => {
  it('type-checks', () => {
    type Target = { orderId: string; at: string };
    expectTypeOf<z.output<typeof PlaceOrderBody> & Target>().toExtend<PlaceOrder['data']>();
    expectTypeOf<z.output<typeof AddItemBody> & Target>().toExtend<AddItem['data']>();
    expectTypeOf<{ shippingAddress: z.output<typeof AddressBody> } & Target>().toExtend<
      ChangeShippingAddress['data']
    >();
    expectTypeOf<z.output<typeof ShipOrderBody> & Target>().toExtend<ShipOrder['data']>();
    expectTypeOf<z.output<typeof CancelOrderBody> & Target>().toExtend<CancelOrder['data']>();
  });
});

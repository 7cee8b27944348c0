import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/eventstore';
import {
  type OrderPlacedV1,
  orderEventSchemas,
  parseFreeFormAddress,
  upcastOrderEvent,
} from '../../src/orders';

const v1: OrderPlacedV1 = {
  orderId: 'order-1',
  customerId: 'customer-1',
  items: [
    { sku: 'SKU-1', quantity: 2, price: 19.99 },
    { sku: 'SKU-2', quantity: 3, price: 0.29 },
  ],
  address: '1 Main Street, Springfield, 12345, us',
  placedAt: '2025-03-01T12:00:00.000Z',
};

const recorded = (type: string, data: unknown, metadata: Record<string, unknown> = {}): RecordedEvent => ({
  id: '00000000-0000-4000-8000-000000000001',
  stream: 'order-order-1',
  revision: 0n,
  position: 1n,
  type,
  data,
  metadata,
  recordedAt: new Date('2025-03-01T12:00:00.000Z'),
});

describe('OrderPlaced v1 → current', () => {
  it('converts float dollars to hundredths, parses the address, adds USD and the total', () => {
    const upcast = upcastOrderEvent(recorded('OrderPlaced', v1, { schemaVersion: 1, commandId: 'c' }));
    expect(upcast.data).toEqual({
      orderId: 'order-1',
      customerId: 'customer-1',
      items: [
        { sku: 'SKU-1', quantity: 2, unitPriceMinor: 1999 },
        { sku: 'SKU-2', quantity: 3, unitPriceMinor: 29 },
      ],
      shippingAddress: { line1: '1 Main Street', city: 'Springfield', postalCode: '12345', country: 'US' },
      currency: 'USD',
      minorUnits: 2,
      totalMinor: 2 * 1999 + 3 * 29,
      placedAt: '2025-03-01T12:00:00.000Z',
    });
    expect(upcast.metadata).toEqual({ schemaVersion: 3, commandId: 'c' });
  });

  it('treats an event without schemaVersion as v1 (written before versioning existed)', () => {
    expect(upcastOrderEvent(recorded('OrderPlaced', v1)).data).toMatchObject({ totalMinor: 4085 });
  });

  it('leaves current events untouched', () => {
    const current = recorded('OrderPlaced', { any: 'thing' }, { schemaVersion: 3 });
    expect(upcastOrderEvent(current)).toBe(current);
    const confirmed = recorded('OrderConfirmed', { orderId: 'order-1' }, { schemaVersion: 2 });
    expect(upcastOrderEvent(confirmed)).toBe(confirmed);
  });

  it('does not change the stored event', () => {
    const stored = recorded('OrderPlaced', structuredClone(v1));
    upcastOrderEvent(stored);
    expect(stored.data).toEqual(v1);
  });

  it('fails loudly on a v1 event it cannot read', () => {
    expect(() => upcastOrderEvent(recorded('OrderPlaced', { orderId: 'x' }))).toThrow(
      /OrderPlaced v1 is malformed/,
    );
  });

  it('writes OrderPlaced as v3 and every other event as v2', () => {
    expect(Object.fromEntries(Object.entries(orderEventSchemas).map(([t, s]) => [t, s.current]))).toEqual({
      OrderPlaced: 3,
      OrderItemAdded: 2,
      ShippingAddressChanged: 2,
      OrderConfirmed: 2,
      OrderShipped: 2,
      OrderCancelled: 2,
    });
  });
});

describe("amounts in hundredths → amounts in the order's minor unit", () => {
  const facts = {
    orderId: 'order-1',
    customerId: 'c',
    placedAt: '2025-03-01T12:00:00.000Z',
    totalCents: 150,
  };

  it('reads an OrderPlaced v2 in any currency as minorUnits 2, the same values (a JPY 1.50 stays 1.50)', () => {
    const v2 = {
      ...facts,
      items: [{ sku: 'A', quantity: 1, unitPriceCents: 150 }],
      shippingAddress: { line1: 'x', city: 'y', postalCode: '1', country: 'JP' },
      currency: 'JPY',
    };
    const { totalCents: _, ...rest } = v2;
    expect(upcastOrderEvent(recorded('OrderPlaced', v2, { schemaVersion: 2 })).data).toEqual({
      ...rest,
      items: [{ sku: 'A', quantity: 1, unitPriceMinor: 150 }],
      minorUnits: 2,
      totalMinor: 150,
    });
  });

  it('reads an OrderItemAdded v1: its line, its lines and its total', () => {
    const v1Added = {
      ...facts,
      sku: 'A',
      quantity: 1,
      unitPriceCents: 150,
      items: [{ sku: 'A', quantity: 1, unitPriceCents: 150 }],
      addedAt: 'later',
    };
    expect(upcastOrderEvent(recorded('OrderItemAdded', v1Added, { schemaVersion: 1 })).data).toEqual({
      orderId: 'order-1',
      customerId: 'c',
      placedAt: facts.placedAt,
      sku: 'A',
      quantity: 1,
      unitPriceMinor: 150,
      items: [{ sku: 'A', quantity: 1, unitPriceMinor: 150 }],
      addedAt: 'later',
      minorUnits: 2,
      totalMinor: 150,
    });
  });

  it.each(['ShippingAddressChanged', 'OrderConfirmed', 'OrderShipped', 'OrderCancelled'])(
    'reads a %s v1 (no schemaVersion) with its total in minor units',
    (type) => {
      const upcast = upcastOrderEvent(recorded(type, { ...facts, extra: 'kept' }));
      expect(upcast.data).toEqual({
        ...facts,
        totalCents: undefined,
        extra: 'kept',
        minorUnits: 2,
        totalMinor: 150,
      });
      expect(upcast.metadata).toEqual({ schemaVersion: 2 });
    },
  );

  it('fails loudly on an event without a total, rather than inventing one', () => {
    expect(() => upcastOrderEvent(recorded('OrderShipped', { orderId: 'x' }))).toThrow(
      /OrderShipped with amounts in cents is malformed/,
    );
  });
});

describe('parsing the free-form v1 address', () => {
  it.each([
    ['1 Main Street, Springfield, 12345, US', '1 Main Street', 'Springfield', '12345', 'US'],
    ['Flat 2, 10 High St, London, SW1A 1AA, gb', 'Flat 2, 10 High St', 'London', 'SW1A 1AA', 'GB'],
    [' 1 Main Street ,Springfield,  12345 ,US ', '1 Main Street', 'Springfield', '12345', 'US'],
    ['Invalidenstraße 1, 10115 Berlin, DE', 'Invalidenstraße 1', 'Berlin', '10115', 'DE'],
    ['1 Main Street, Springfield 12345, US', '1 Main Street', 'Springfield', '12345', 'US'],
    ['1 Main Street, Springfield, US', '1 Main Street', 'Springfield', '', 'US'],
    ['1 Main Street, Germany', '1 Main Street', '', '', 'Germany'],
    ['somewhere', 'somewhere', '', '', ''],
    ['', '', '', '', ''],
  ])('%j', (text, line1, city, postalCode, country) => {
    expect(parseFreeFormAddress(text)).toEqual({ line1, city, postalCode, country });
  });
});

import type { Address, OrderEvent, OrderLine, OrderStatus } from '../../src/orders/events';
import { orderStream } from '../../src/orders/events';
import type { ProjectedEvent, Projection } from '../../src/readmodel/projection';
import { recordWrites, WriteBatch } from '../../src/readmodel/projection';

/** An order event as a projection receives it. */
export type ProjectedOrderEvent = {
  [T in OrderEvent['type']]: ProjectedEvent<T, Extract<OrderEvent, { type: T }>['data']>;
}[OrderEvent['type']];

export const anAddress = (overrides: Partial<Address> = {}): Address => ({
  line1: '1 Main St',
  city: 'Springfield',
  postalCode: '12345',
  country: 'US',
  ...overrides,
});

let nextPosition = 1n;

const lineTotal = (items: OrderLine[]) =>
  items.reduce((sum, { quantity, unitPriceMinor }) => sum + quantity * unitPriceMinor, 0);

/**
 * The events of one order's life, with revisions, totals and status that follow each other as the domain
 * would write them (items merged by sku at the same price, total after each event, previousStatus).
 */
export const anOrder = (init: {
  orderId: string;
  customerId?: string;
  placedAt?: string;
  items?: OrderLine[];
  currency?: string;
  /** Decimals of the amounts (2 unless said). */
  minorUnits?: number;
  shippingAddress?: Address;
}) => {
  const minorUnits = init.minorUnits ?? 2;
  const orderId = init.orderId;
  const customerId = init.customerId ?? 'customer-1';
  const placedAt = init.placedAt ?? '2024-03-01T10:00:00.000Z';
  let items = init.items ?? [{ sku: 'sku-1', quantity: 1, unitPriceMinor: 1000 }];
  let status: OrderStatus = 'pending';
  let revision = -1n;

  const event = <E extends ProjectedOrderEvent>(type: E['type'], data: E['data']): E => {
    revision += 1n;
    const position = nextPosition++;
    return {
      type,
      data,
      stream: orderStream(orderId),
      revision,
      position,
      recordedAt: new Date(),
      metadata: {},
    } as E;
  };
  const facts = () => ({ orderId, customerId, placedAt, minorUnits, totalMinor: lineTotal(items) });

  return {
    placed: () =>
      event('OrderPlaced', {
        orderId,
        customerId,
        items,
        shippingAddress: init.shippingAddress ?? anAddress(),
        currency: init.currency ?? 'USD',
        minorUnits,
        totalMinor: lineTotal(items),
        placedAt,
      }),
    itemAdded: (line: OrderLine, addedAt: string) => {
      const same = items.find((i) => i.sku === line.sku && i.unitPriceMinor === line.unitPriceMinor);
      items = same
        ? items.map((i) => (i === same ? { ...i, quantity: i.quantity + line.quantity } : i))
        : [...items, line];
      return event('OrderItemAdded', { ...facts(), ...line, items, addedAt });
    },
    addressChanged: (shippingAddress: Address, changedAt: string) =>
      event('ShippingAddressChanged', { ...facts(), shippingAddress, changedAt }),
    confirmed: (confirmedAt: string) => {
      status = 'confirmed';
      return event('OrderConfirmed', { ...facts(), confirmedAt });
    },
    shipped: (shippedAt: string, trackingNumber?: string) => {
      status = 'shipped';
      return event('OrderShipped', { ...facts(), shippedAt, ...(trackingNumber ? { trackingNumber } : {}) });
    },
    cancelled: (cancelledAt: string, reason?: string) => {
      const previousStatus = status as 'pending' | 'confirmed';
      status = 'cancelled';
      return event('OrderCancelled', {
        ...facts(),
        previousStatus,
        cancelledAt,
        ...(reason ? { reason } : {}),
      });
    },
  };
};

/**
 * What a projection records for these events, in order. Widens the typed projection as the projector does
 * (it dispatches on `event.type`).
 */
export const writesOf = (projection: Projection<OrderEvent>, ...events: ProjectedOrderEvent[]) => {
  const w = new WriteBatch();
  for (const e of events) recordWrites(projection as Projection, e as ProjectedEvent, w);
  return w.writes;
};

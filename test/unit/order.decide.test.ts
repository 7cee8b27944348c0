import { describe, expect, it } from 'vitest';
import { InvalidTransition, NotFound } from '../../src/cqrs';
import { type OrderCommand, type OrderEvent, orderDecider } from '../../src/orders';
import { givenWhenThen } from '../support/given-when-then';
import { berlin, LATER, orderCommand, orderPlaced, PLACED_AT, paris } from '../support/orders';

const given = givenWhenThen(orderDecider);
const orderId = '3f0c2a4e-8d1b-4c5e-9f6a-7b8c9d0e1f2a';
const facts = { orderId, customerId: 'customer-1', placedAt: PLACED_AT, minorUnits: 2, totalMinor: 4498 };

// ── History: one per state the order can be in ──
const placed = orderPlaced(orderId);
const confirmed: OrderEvent = { type: 'OrderConfirmed', data: { ...facts, confirmedAt: LATER } };
const shipped: OrderEvent = { type: 'OrderShipped', data: { ...facts, shippedAt: LATER } };
const cancelledWhilePending: OrderEvent = {
  type: 'OrderCancelled',
  data: { ...facts, previousStatus: 'pending', cancelledAt: LATER },
};
const cancelledWhileConfirmed: OrderEvent = {
  type: 'OrderCancelled',
  data: { ...facts, previousStatus: 'confirmed', cancelledAt: LATER },
};

const histories: Record<string, OrderEvent[]> = {
  none: [],
  pending: [placed],
  confirmed: [placed, confirmed],
  shipped: [placed, confirmed, shipped],
  'cancelled (from pending)': [placed, cancelledWhilePending],
  'cancelled (from confirmed)': [placed, confirmed, cancelledWhileConfirmed],
};

// ── Commands, one of each ──
const commands = {
  PlaceOrder: orderCommand('PlaceOrder', {
    orderId,
    at: PLACED_AT,
    customerId: 'customer-1',
    items: [
      { sku: 'SKU-1', quantity: 2, unitPrice: 19.99 },
      { sku: 'SKU-2', quantity: 1, unitPrice: 5 },
    ],
    shippingAddress: berlin,
    currency: 'EUR',
  }),
  AddItem: orderCommand('AddItem', { orderId, at: LATER, sku: 'SKU-3', quantity: 3, unitPrice: 2.5 }),
  ChangeShippingAddress: orderCommand('ChangeShippingAddress', {
    orderId,
    at: LATER,
    shippingAddress: paris,
  }),
  ConfirmOrder: orderCommand('ConfirmOrder', { orderId, at: LATER }),
  ShipOrder: orderCommand('ShipOrder', { orderId, at: LATER, trackingNumber: '1Z999' }),
  CancelOrder: orderCommand('CancelOrder', { orderId, at: LATER, reason: 'changed my mind' }),
} satisfies Record<OrderCommand['type'], OrderCommand>;

type Outcome = OrderEvent[] | typeof InvalidTransition | typeof NotFound;

const pendingOrConfirmedCancel = (previousStatus: 'pending' | 'confirmed'): OrderEvent[] => [
  {
    type: 'OrderCancelled',
    data: { ...facts, previousStatus, reason: 'changed my mind', cancelledAt: LATER },
  },
];

/** What every command does in every state: the lifecycle of docs/api.md as a table. */
const expected: Record<keyof typeof histories, Record<OrderCommand['type'], Outcome>> = {
  none: {
    PlaceOrder: [placed],
    AddItem: NotFound,
    ChangeShippingAddress: NotFound,
    ConfirmOrder: NotFound,
    ShipOrder: NotFound,
    CancelOrder: NotFound,
  },
  pending: {
    PlaceOrder: InvalidTransition,
    AddItem: [
      {
        type: 'OrderItemAdded',
        data: {
          ...facts,
          totalMinor: 4498 + 750,
          sku: 'SKU-3',
          quantity: 3,
          unitPriceMinor: 250,
          items: [
            { sku: 'SKU-1', quantity: 2, unitPriceMinor: 1999 },
            { sku: 'SKU-2', quantity: 1, unitPriceMinor: 500 },
            { sku: 'SKU-3', quantity: 3, unitPriceMinor: 250 },
          ],
          addedAt: LATER,
        },
      },
    ],
    ChangeShippingAddress: [
      { type: 'ShippingAddressChanged', data: { ...facts, shippingAddress: paris, changedAt: LATER } },
    ],
    ConfirmOrder: [confirmed],
    ShipOrder: InvalidTransition,
    CancelOrder: pendingOrConfirmedCancel('pending'),
  },
  confirmed: {
    PlaceOrder: InvalidTransition,
    AddItem: InvalidTransition,
    ChangeShippingAddress: [
      { type: 'ShippingAddressChanged', data: { ...facts, shippingAddress: paris, changedAt: LATER } },
    ],
    ConfirmOrder: InvalidTransition,
    ShipOrder: [{ type: 'OrderShipped', data: { ...facts, trackingNumber: '1Z999', shippedAt: LATER } }],
    CancelOrder: pendingOrConfirmedCancel('confirmed'),
  },
  shipped: {
    PlaceOrder: InvalidTransition,
    AddItem: InvalidTransition,
    ChangeShippingAddress: InvalidTransition,
    ConfirmOrder: InvalidTransition,
    ShipOrder: InvalidTransition,
    CancelOrder: InvalidTransition,
  },
  'cancelled (from pending)': {
    PlaceOrder: InvalidTransition,
    AddItem: InvalidTransition,
    ChangeShippingAddress: InvalidTransition,
    ConfirmOrder: InvalidTransition,
    ShipOrder: InvalidTransition,
    CancelOrder: InvalidTransition,
  },
  'cancelled (from confirmed)': {
    PlaceOrder: InvalidTransition,
    AddItem: InvalidTransition,
    ChangeShippingAddress: InvalidTransition,
    ConfirmOrder: InvalidTransition,
    ShipOrder: InvalidTransition,
    CancelOrder: InvalidTransition,
  },
};

const cases = Object.entries(expected).flatMap(([state, byCommand]) =>
  Object.entries(byCommand).map(([type, outcome]) => ({
    state,
    type: type as OrderCommand['type'],
    outcome,
  })),
);

describe('order lifecycle: every command in every state', () => {
  it.each(cases.filter((c) => Array.isArray(c.outcome)))(
    'a $state order accepts $type',
    ({ state, type, outcome }) => {
      given(...histories[state]!)
        .when(commands[type])
        .then(outcome as OrderEvent[]);
    },
  );

  it.each(cases.filter((c) => c.outcome === InvalidTransition))(
    'a $state order refuses $type as an invalid transition naming both',
    ({ state, type }) => {
      const error = given(...histories[state]!)
        .when(commands[type])
        .thenThrows(InvalidTransition);
      const status = state.split(' ')[0]!;
      expect(error.status).toBe(409);
      expect(error.message).toBe(`cannot ${type} an order that is ${status}`);
    },
  );

  it.each(cases.filter((c) => c.outcome === NotFound))(
    'an order that does not exist answers $type with 404',
    ({ type }) => {
      const error = given().when(commands[type]).thenThrows(NotFound);
      expect(error.status).toBe(404);
      expect(error.message).toContain(orderId);
    },
  );
});

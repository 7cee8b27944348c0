import { describe, expect, it } from 'vitest';
import { LimitExceeded } from '../../src/cqrs';
import {
  decide,
  evolve,
  initialState,
  type OrderEvent,
  type OrderLine,
  orderDecider,
  type PlacedOrder,
} from '../../src/orders';
import { givenWhenThen } from '../support/given-when-then';
import { berlin, LATER, orderCommand, orderPlaced, PLACED_AT, paris } from '../support/orders';

const given = givenWhenThen(orderDecider);
const orderId = '6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const placed = orderPlaced(orderId);

const addItem = (sku: string, quantity: number, unitPriceCents: number) =>
  orderCommand('AddItem', { orderId, at: LATER, sku, quantity, unitPriceCents });

const placeWith = (items: OrderLine[]) =>
  orderCommand('PlaceOrder', {
    orderId,
    at: PLACED_AT,
    customerId: 'customer-1',
    items,
    shippingAddress: berlin,
    currency: 'USD',
  });

const decideAfter = (history: OrderEvent[], command: Parameters<typeof decide>[0]) =>
  decide(command, history.reduce(evolve, initialState()));

const stateAfter = (history: OrderEvent[]) => history.reduce(evolve, initialState()) as PlacedOrder;

describe('placing an order', () => {
  it('totals the lines in integer cents', () => {
    const [event] = decideAfter([], placeWith([{ sku: 'A', quantity: 3, unitPriceCents: 33 }]));
    expect(event).toMatchObject({ type: 'OrderPlaced', data: { totalCents: 99, currency: 'USD' } });
  });

  it('merges lines with the same sku and price, keeps a different price apart', () => {
    const [event] = decideAfter(
      [],
      placeWith([
        { sku: 'A', quantity: 1, unitPriceCents: 100 },
        { sku: 'A', quantity: 2, unitPriceCents: 100 },
        { sku: 'A', quantity: 1, unitPriceCents: 90 },
      ]),
    );
    expect(event?.data).toMatchObject({
      items: [
        { sku: 'A', quantity: 3, unitPriceCents: 100 },
        { sku: 'A', quantity: 1, unitPriceCents: 90 },
      ],
      totalCents: 390,
    });
  });

  it('refuses lines that merge past 10000 units', () => {
    const line = { sku: 'A', quantity: 6000, unitPriceCents: 1 };
    given()
      .when(placeWith([line, line]))
      .thenThrows(LimitExceeded);
  });
});

describe('adding items', () => {
  it('adds to the quantity of the line with the same sku and price', () => {
    given(placed)
      .when(addItem('SKU-1', 3, 1999))
      .then([
        {
          type: 'OrderItemAdded',
          data: {
            orderId,
            customerId: 'customer-1',
            placedAt: PLACED_AT,
            totalCents: 4498 + 3 * 1999,
            sku: 'SKU-1',
            quantity: 3,
            unitPriceCents: 1999,
            items: [
              { sku: 'SKU-1', quantity: 5, unitPriceCents: 1999 },
              { sku: 'SKU-2', quantity: 1, unitPriceCents: 500 },
            ],
            addedAt: LATER,
          },
        },
      ]);
  });

  it('adds a new line for the same sku at another price', () => {
    const [event] = decideAfter([placed], addItem('SKU-1', 1, 1899));
    expect(event?.data).toMatchObject({
      totalCents: 4498 + 1899,
      items: [
        { sku: 'SKU-1', quantity: 2, unitPriceCents: 1999 },
        { sku: 'SKU-2', quantity: 1, unitPriceCents: 500 },
        { sku: 'SKU-1', quantity: 1, unitPriceCents: 1899 },
      ],
    });
  });

  it('accepts a line reaching exactly 10000 units and refuses one past it', () => {
    const [reached] = decideAfter([placed], addItem('SKU-1', 9998, 1999));
    expect(reached?.data).toMatchObject({ items: [{ sku: 'SKU-1', quantity: 10_000 }, { sku: 'SKU-2' }] });
    const error = given(placed)
      .when(addItem('SKU-1', 9999, 1999))
      .thenThrows(LimitExceeded);
    expect(error.status).toBe(409);
    expect(error.type).toMatch(/\/limit-exceeded$/);
    expect(error.message).toContain('10001');
  });

  it('refuses a 101st line', () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ sku: `S${i}`, quantity: 1, unitPriceCents: 1 }));
    const full: OrderEvent = {
      type: 'OrderPlaced',
      data: { ...(placed.data as object), items, totalCents: 100 } as Extract<
        OrderEvent,
        { type: 'OrderPlaced' }
      >['data'],
    };
    given(full)
      .when(addItem('NEW', 1, 1))
      .thenThrows(LimitExceeded);
    // Merging into an existing line needs no new line, so it is still allowed at 100 lines.
    expect(decideAfter([full], addItem('S0', 1, 1))[0]?.data).toMatchObject({ totalCents: 101 });
  });

  it('keeps the total exact where floats would drift (0.1 + 0.2)', () => {
    const history = [placed, ...decideAfter([placed], addItem('X', 1, 10))];
    const [event] = decideAfter(history, addItem('Y', 1, 20));
    expect(event?.data).toMatchObject({ totalCents: 4498 + 30 });
  });
});

describe('optional facts', () => {
  it('records no reason for a blank one and no tracking number when none was given', () => {
    const cancel = orderCommand('CancelOrder', { orderId, at: LATER, reason: '   ' });
    expect(decideAfter([placed], cancel)[0]?.data).not.toHaveProperty('reason');
    const confirm = orderCommand('ConfirmOrder', { orderId, at: LATER });
    const ship = orderCommand('ShipOrder', { orderId, at: LATER });
    const history = [placed, ...decideAfter([placed], confirm)];
    expect(decideAfter(history, ship)[0]?.data).not.toHaveProperty('trackingNumber');
  });
});

describe('evolve', () => {
  it('folds a whole lifecycle into the current order', () => {
    const history: OrderEvent[] = [placed];
    const run = (command: Parameters<typeof decide>[0]) => history.push(...decideAfter(history, command));
    run(addItem('SKU-3', 2, 250));
    run(orderCommand('ChangeShippingAddress', { orderId, at: LATER, shippingAddress: paris }));
    run(orderCommand('ConfirmOrder', { orderId, at: LATER }));
    expect(stateAfter(history)).toMatchObject({
      status: 'confirmed',
      id: orderId,
      customerId: 'customer-1',
      shippingAddress: paris,
      totalCents: 4998,
      currency: 'EUR',
      placedAt: PLACED_AT,
    });
    run(orderCommand('ShipOrder', { orderId, at: LATER }));
    expect(stateAfter(history).status).toBe('shipped');
  });

  it('refuses to fold an event that comes before OrderPlaced (a corrupt stream)', () => {
    const confirmed: OrderEvent = {
      type: 'OrderConfirmed',
      data: { orderId, customerId: 'c', placedAt: PLACED_AT, totalCents: 0, confirmedAt: LATER },
    };
    expect(() => evolve(initialState(), confirmed)).toThrow(/before OrderPlaced/);
  });

  it('ignores event types it does not know', () => {
    const state = stateAfter([placed]);
    expect(evolve(state, { type: 'OrderGiftWrapped', data: {} } as unknown as OrderEvent)).toBe(state);
  });
});

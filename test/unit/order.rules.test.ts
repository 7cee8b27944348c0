import { describe, expect, it } from 'vitest';
import { LimitExceeded, ValidationFailed } from '../../src/cqrs';
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

// Prices are given here in hundredths (the minor unit of USD and EUR) and sent as the decimals a client sends.
const addItem = (sku: string, quantity: number, unitPriceMinor: number) =>
  orderCommand('AddItem', { orderId, at: LATER, sku, quantity, unitPrice: unitPriceMinor / 100 });

const placeWith = (items: OrderLine[], currency = 'USD') =>
  orderCommand('PlaceOrder', {
    orderId,
    at: PLACED_AT,
    customerId: 'customer-1',
    items: items.map(({ unitPriceMinor, ...line }) => ({ ...line, unitPrice: unitPriceMinor / 100 })),
    shippingAddress: berlin,
    currency,
  });

const decideAfter = (history: OrderEvent[], command: Parameters<typeof decide>[0]) =>
  decide(command, history.reduce(evolve, initialState()));

const stateAfter = (history: OrderEvent[]) => history.reduce(evolve, initialState()) as PlacedOrder;

describe('placing an order', () => {
  it('totals the lines in integer minor units', () => {
    const [event] = decideAfter([], placeWith([{ sku: 'A', quantity: 3, unitPriceMinor: 33 }]));
    expect(event).toMatchObject({
      type: 'OrderPlaced',
      data: { totalMinor: 99, minorUnits: 2, currency: 'USD' },
    });
  });

  it('merges lines with the same sku and price, keeps a different price apart', () => {
    const [event] = decideAfter(
      [],
      placeWith([
        { sku: 'A', quantity: 1, unitPriceMinor: 100 },
        { sku: 'A', quantity: 2, unitPriceMinor: 100 },
        { sku: 'A', quantity: 1, unitPriceMinor: 90 },
      ]),
    );
    expect(event?.data).toMatchObject({
      items: [
        { sku: 'A', quantity: 3, unitPriceMinor: 100 },
        { sku: 'A', quantity: 1, unitPriceMinor: 90 },
      ],
      totalMinor: 390,
    });
  });

  it('refuses lines that merge past 10000 units', () => {
    const line = { sku: 'A', quantity: 6000, unitPriceMinor: 1 };
    given()
      .when(placeWith([line, line]))
      .thenThrows(LimitExceeded);
  });
});

describe("money in the minor unit of the order's currency", () => {
  const placeIn = (currency: string, unitPrice: number, quantity = 1) =>
    orderCommand('PlaceOrder', {
      orderId,
      at: PLACED_AT,
      customerId: 'customer-1',
      items: [{ sku: 'A', quantity, unitPrice }],
      shippingAddress: berlin,
      currency,
    });
  const addIn = (unitPrice: number) =>
    orderCommand('AddItem', { orderId, at: LATER, sku: 'B', quantity: 2, unitPrice });

  it.each([
    ['USD', 19.99, 2, 1999],
    ['JPY', 1500, 0, 1500],
    ['KWD', 1.234, 3, 1234],
    ['CLF', 0.0001, 4, 1],
  ])('%s %s is recorded as %s decimals, %s minor units', (currency, unitPrice, minorUnits, minor) => {
    const [event] = decideAfter([], placeIn(currency, unitPrice, 3));
    expect(event?.data).toMatchObject({
      currency,
      minorUnits,
      items: [{ sku: 'A', quantity: 3, unitPriceMinor: minor }],
      totalMinor: 3 * minor,
    });
  });

  it.each([
    ['JPY', 1.5, 'must be a whole number in JPY'],
    ['USD', 1.234, 'must have at most 2 decimals in USD'],
    ['KWD', 1.2345, 'must have at most 3 decimals in KWD'],
  ])('refuses %s %s, naming the line and the rule', (currency, unitPrice, message) => {
    const error = given().when(placeIn(currency, unitPrice)).thenThrows(ValidationFailed);
    expect(error.errors).toEqual([{ path: 'items.0.unitPrice', message }]);
  });

  it('checks an added item against the currency the order was placed in', () => {
    const [yen] = decideAfter([], placeIn('JPY', 1000));
    const error = given(yen!).when(addIn(0.5)).thenThrows(ValidationFailed);
    expect(error.errors).toEqual([{ path: 'unitPrice', message: 'must be a whole number in JPY' }]);
    expect(decideAfter([yen!], addIn(250))[0]?.data).toMatchObject({ minorUnits: 0, totalMinor: 1500 });
  });

  it('keeps hundredths for an order placed before minor units were recorded (upcast with minorUnits 2)', () => {
    const [dinar] = decideAfter([], placeIn('KWD', 1.5));
    const legacy = {
      ...dinar!,
      data: { ...(dinar!.data as object), minorUnits: 2, items: [], totalMinor: 0 },
    } as unknown as OrderEvent;
    expect(decideAfter([legacy], addIn(1.25))[0]?.data).toMatchObject({ minorUnits: 2, totalMinor: 250 });
    const error = given(legacy).when(addIn(1.234)).thenThrows(ValidationFailed);
    expect(error.errors).toEqual([{ path: 'unitPrice', message: 'must have at most 2 decimals in KWD' }]);
  });

  it('refuses a total that would pass 2^53 minor units instead of rounding it', () => {
    const [big] = decideAfter([], placeIn('CLF', 999_999.9999, 10_000));
    expect(big?.data).toMatchObject({ totalMinor: 99_999_999_990_000 });
    const history = [big!];
    for (let i = 0; i < 89; i++) {
      const add = orderCommand('AddItem', {
        orderId,
        at: LATER,
        sku: `S${i}`,
        quantity: 10_000,
        unitPrice: 999_999.9999,
      });
      history.push(...decideAfter(history, add));
    }
    const last = orderCommand('AddItem', {
      orderId,
      at: LATER,
      sku: 'LAST',
      quantity: 10_000,
      unitPrice: 999_999.9999,
    });
    const error = given(...history)
      .when(last)
      .thenThrows(LimitExceeded);
    expect(error.message).toContain('total');
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
            minorUnits: 2,
            totalMinor: 4498 + 3 * 1999,
            sku: 'SKU-1',
            quantity: 3,
            unitPriceMinor: 1999,
            items: [
              { sku: 'SKU-1', quantity: 5, unitPriceMinor: 1999 },
              { sku: 'SKU-2', quantity: 1, unitPriceMinor: 500 },
            ],
            addedAt: LATER,
          },
        },
      ]);
  });

  it('adds a new line for the same sku at another price', () => {
    const [event] = decideAfter([placed], addItem('SKU-1', 1, 1899));
    expect(event?.data).toMatchObject({
      totalMinor: 4498 + 1899,
      items: [
        { sku: 'SKU-1', quantity: 2, unitPriceMinor: 1999 },
        { sku: 'SKU-2', quantity: 1, unitPriceMinor: 500 },
        { sku: 'SKU-1', quantity: 1, unitPriceMinor: 1899 },
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
    const items = Array.from({ length: 100 }, (_, i) => ({ sku: `S${i}`, quantity: 1, unitPriceMinor: 1 }));
    const full: OrderEvent = {
      type: 'OrderPlaced',
      data: { ...(placed.data as object), items, totalMinor: 100 } as Extract<
        OrderEvent,
        { type: 'OrderPlaced' }
      >['data'],
    };
    given(full)
      .when(addItem('NEW', 1, 1))
      .thenThrows(LimitExceeded);
    // Merging into an existing line needs no new line, so it is still allowed at 100 lines.
    expect(decideAfter([full], addItem('S0', 1, 1))[0]?.data).toMatchObject({ totalMinor: 101 });
  });

  it('keeps the total exact where floats would drift (0.1 + 0.2)', () => {
    const history = [placed, ...decideAfter([placed], addItem('X', 1, 10))];
    const [event] = decideAfter(history, addItem('Y', 1, 20));
    expect(event?.data).toMatchObject({ totalMinor: 4498 + 30 });
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
      totalMinor: 4998,
      currency: 'EUR',
      placedAt: PLACED_AT,
    });
    run(orderCommand('ShipOrder', { orderId, at: LATER }));
    expect(stateAfter(history).status).toBe('shipped');
  });

  it('refuses to fold an event that comes before OrderPlaced (a corrupt stream)', () => {
    const confirmed: OrderEvent = {
      type: 'OrderConfirmed',
      data: {
        orderId,
        customerId: 'c',
        placedAt: PLACED_AT,
        minorUnits: 2,
        totalMinor: 0,
        confirmedAt: LATER,
      },
    };
    expect(() => evolve(initialState(), confirmed)).toThrow(/before OrderPlaced/);
  });

  it('ignores event types it does not know', () => {
    const state = stateAfter([placed]);
    expect(evolve(state, { type: 'OrderGiftWrapped', data: {} } as unknown as OrderEvent)).toBe(state);
  });
});

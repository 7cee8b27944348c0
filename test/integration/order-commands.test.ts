import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConcurrencyConflict,
  IdempotencyKeyReused,
  InvalidTransition,
  NotFound,
  PreconditionFailed,
} from '../../src/cqrs';
import { type EventStore, openEventStore, type RecordedEvent } from '../../src/eventstore';
import {
  createOrderCommandHandlers,
  type OrderCommand,
  type OrderPlacedV1,
  orderStream,
  upcastOrderEvent,
} from '../../src/orders';
import { berlin, LATER, orderCommand, PLACED_AT, paris } from '../support/orders';

let store: EventStore;
beforeEach(async () => {
  store = await openEventStore('sqlite::memory:');
});
afterEach(async () => {
  await store.close();
});

const eventsOf = async (orderId: string): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(orderStream(orderId))) events.push(event);
  return events;
};

const placeOrder = (orderId: string, options: Parameters<typeof orderCommand>[2] = {}) =>
  orderCommand(
    'PlaceOrder',
    {
      orderId,
      at: PLACED_AT,
      customerId: 'customer-1',
      items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 19.99 }],
      shippingAddress: berlin,
      currency: 'EUR',
    },
    options,
  );

const addItem = (orderId: string, quantity: number, options: Parameters<typeof orderCommand>[2] = {}) =>
  orderCommand('AddItem', { orderId, at: LATER, sku: 'SKU-9', quantity, unitPrice: 1 }, options);

describe('order commands through the bus, on a real SQLite store', () => {
  it('runs a whole lifecycle, answering version and position, and records the metadata', async () => {
    const bus = createOrderCommandHandlers({ store });
    const orderId = randomUUID();
    const commands: OrderCommand[] = [
      placeOrder(orderId),
      addItem(orderId, 3),
      orderCommand('ChangeShippingAddress', { orderId, at: LATER, shippingAddress: paris }),
      orderCommand('ConfirmOrder', { orderId, at: LATER }),
      orderCommand('ShipOrder', { orderId, at: LATER, trackingNumber: '1Z999' }),
    ];
    const results = [];
    for (const command of commands) results.push(await bus.dispatch(command));

    expect(results.map((r) => r.version)).toEqual([0n, 1n, 2n, 3n, 4n]);
    expect(results.every((r) => r.orderId === orderId && !r.replayed)).toBe(true);
    const positions = results.map((r) => r.position);
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);

    const events = await eventsOf(orderId);
    expect(events.map((e) => e.type)).toEqual([
      'OrderPlaced',
      'OrderItemAdded',
      'ShippingAddressChanged',
      'OrderConfirmed',
      'OrderShipped',
    ]);
    expect(events[4]?.data).toMatchObject({
      minorUnits: 2,
      totalMinor: 2 * 1999 + 300,
      trackingNumber: '1Z999',
    });
    expect(events[0]?.metadata).toMatchObject({
      commandId: commands[0]?.metadata.commandId,
      commandType: 'PlaceOrder',
      schemaVersion: 3,
    });
    expect(events[1]?.metadata).toMatchObject({ commandType: 'AddItem', schemaVersion: 2 });
  });

  it('refuses an invalid transition and a missing order, appending nothing', async () => {
    const bus = createOrderCommandHandlers({ store });
    const orderId = randomUUID();
    await bus.dispatch(placeOrder(orderId));
    await expect(bus.dispatch(orderCommand('ShipOrder', { orderId, at: LATER }))).rejects.toThrow(
      InvalidTransition,
    );
    expect(await eventsOf(orderId)).toHaveLength(1);

    const missing = randomUUID();
    await expect(bus.dispatch(orderCommand('ConfirmOrder', { orderId: missing, at: LATER }))).rejects.toThrow(
      NotFound,
    );
    // A missing order is a 404 even when If-Match names a version.
    const pinned = orderCommand('ConfirmOrder', { orderId: missing, at: LATER }, { expectedVersion: 0n });
    await expect(bus.dispatch(pinned)).rejects.toThrow(NotFound);
    expect(await eventsOf(missing)).toHaveLength(0);
  });

  it('places a new order (no Idempotency-Key) without reading its stream first; an id that exists after all goes the usual way (refused, nothing appended)', async () => {
    const streamsRead: string[] = [];
    const readStream = store.readStream.bind(store);
    store.readStream = (stream, opts) => {
      streamsRead.push(stream);
      return readStream(stream, opts);
    };
    const bus = createOrderCommandHandlers({ store });
    const orderId = randomUUID();

    expect(await bus.dispatch(placeOrder(orderId))).toMatchObject({ version: 0n, replayed: false });
    expect(streamsRead).toEqual([]);

    await expect(bus.dispatch(placeOrder(orderId))).rejects.toThrow(InvalidTransition);
    expect(streamsRead).toEqual([orderStream(orderId)]);
    expect(await eventsOf(orderId)).toHaveLength(1);
  });
});

describe('idempotency', () => {
  it('answers a replay (same command id, same request hash) as the first time, appending nothing', async () => {
    const bus = createOrderCommandHandlers({ store });
    const orderId = randomUUID();
    const place = placeOrder(orderId, { commandId: randomUUID(), requestHash: 'hash-place' });
    const placed = await bus.dispatch(place);
    const add = addItem(orderId, 2, { commandId: randomUUID(), requestHash: 'hash-add' });
    const added = await bus.dispatch(add);
    await bus.dispatch(orderCommand('ConfirmOrder', { orderId, at: LATER }));

    // Replayed after later commands, and in a state where they would now be refused.
    expect(await bus.dispatch(add)).toEqual({ ...added, replayed: true });
    expect(await bus.dispatch(place)).toEqual({ ...placed, replayed: true });
    expect(await eventsOf(orderId)).toHaveLength(3);
  });

  it('refuses the same command id with another request hash (Idempotency-Key reused)', async () => {
    const bus = createOrderCommandHandlers({ store });
    const orderId = randomUUID();
    const commandId = randomUUID();
    await bus.dispatch(placeOrder(orderId, { commandId, requestHash: 'first-body' }));
    const other = placeOrder(orderId, { commandId, requestHash: 'second-body' });
    await expect(bus.dispatch(other)).rejects.toThrow(IdempotencyKeyReused);
    expect(await eventsOf(orderId)).toHaveLength(1);
  });
});

describe('If-Match (expectedVersion on the command)', () => {
  it('applies at the expected version and refuses any other with 412, appending nothing', async () => {
    const conflicts: string[] = [];
    const bus = createOrderCommandHandlers({ store, onConflict: (type) => conflicts.push(type) });
    const orderId = randomUUID();
    await bus.dispatch(placeOrder(orderId));
    await expect(bus.dispatch(addItem(orderId, 1, { expectedVersion: 1n }))).rejects.toThrow(
      PreconditionFailed,
    );
    expect(await eventsOf(orderId)).toHaveLength(1);

    const result = await bus.dispatch(addItem(orderId, 1, { expectedVersion: 0n }));
    expect(result.version).toBe(1n);
    await expect(bus.dispatch(addItem(orderId, 1, { expectedVersion: 0n }))).rejects.toThrow(
      PreconditionFailed,
    );
    expect(await eventsOf(orderId)).toHaveLength(2);
    expect(conflicts).toEqual([]);
  });
});

describe('concurrency', () => {
  it('50 concurrent AddItem: each succeeds or conflicts, and the stream holds exactly the successes', async () => {
    const counted = { conflicts: 0, retries: 0, dispatches: 0 };
    const bus = createOrderCommandHandlers({
      store,
      onConflict: () => counted.conflicts++,
      onRetry: () => counted.retries++,
      observe: () => counted.dispatches++,
    });
    const orderId = randomUUID();
    await bus.dispatch(placeOrder(orderId));

    const quantities = Array.from({ length: 50 }, (_, i) => i + 1);
    const outcomes = await Promise.allSettled(quantities.map((q) => bus.dispatch(addItem(orderId, q))));

    const succeeded = quantities.filter((_, i) => outcomes[i]?.status === 'fulfilled');
    const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(failures.every((reason) => reason instanceof ConcurrencyConflict)).toBe(true);
    expect(succeeded.length + failures.length).toBe(50);

    const added = (await eventsOf(orderId)).slice(1);
    expect(added).toHaveLength(succeeded.length);
    const recorded = added.map((e) => (e.data as { quantity: number }).quantity);
    expect([...recorded].sort((a, b) => a - b)).toEqual(succeeded);
    const sum = succeeded.reduce((a, b) => a + b, 0);
    expect(added.at(-1)?.data).toMatchObject({
      items: [
        { sku: 'SKU-1', quantity: 2 },
        { sku: 'SKU-9', quantity: sum },
      ],
      totalMinor: 2 * 1999 + sum * 100,
    });

    const versions = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.version] : []));
    expect(new Set(versions).size).toBe(versions.length);
    expect(counted.conflicts).toBeGreaterThan(0);
    expect(counted.retries).toBeLessThanOrEqual(counted.conflicts);
    expect(counted.dispatches).toBe(51);
  });
});

describe('events written by older code', () => {
  const v1 = (orderId: string): OrderPlacedV1 => ({
    orderId,
    customerId: 'customer-old',
    items: [
      { sku: 'OLD-1', quantity: 3, price: 0.29 },
      { sku: 'OLD-2', quantity: 1, price: 12.5 },
    ],
    address: '1 Main Street, Springfield, 12345, US',
    placedAt: '2024-12-31T23:59:00.000Z',
  });

  it.each([
    ['schemaVersion 1', { schemaVersion: 1 }],
    ['no schemaVersion', {}],
  ])(
    'an OrderPlaced v1 (%s) is read as the current version by the aggregate; the stored event stays as it was',
    async (_, metadata) => {
      const bus = createOrderCommandHandlers({ store });
      const orderId = randomUUID();
      const stored = { id: randomUUID(), type: 'OrderPlaced', data: v1(orderId), metadata };
      await store.append(orderStream(orderId), [stored], { expectedRevision: 'no_stream' });

      const added = await bus.dispatch(addItem(orderId, 2));
      expect(added.version).toBe(1n);
      const confirmed = await bus.dispatch(orderCommand('ConfirmOrder', { orderId, at: LATER }));
      expect(confirmed.version).toBe(2n);

      const [placed, itemAdded, orderConfirmed] = await eventsOf(orderId);
      const v1Total = 3 * 29 + 1250;
      expect(itemAdded?.data).toMatchObject({
        customerId: 'customer-old',
        placedAt: '2024-12-31T23:59:00.000Z',
        minorUnits: 2,
        totalMinor: v1Total + 200,
        items: [
          { sku: 'OLD-1', quantity: 3, unitPriceMinor: 29 },
          { sku: 'OLD-2', quantity: 1, unitPriceMinor: 1250 },
          { sku: 'SKU-9', quantity: 2, unitPriceMinor: 100 },
        ],
      });
      expect(orderConfirmed?.data).toMatchObject({ totalMinor: v1Total + 200 });
      expect(placed?.data).toEqual(v1(orderId));
      expect(upcastOrderEvent(placed!).data).toMatchObject({
        currency: 'USD',
        minorUnits: 2,
        totalMinor: v1Total,
      });
    },
  );
});

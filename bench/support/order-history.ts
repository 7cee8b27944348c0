// Realistic order histories for prefilling a store: commands run through the real domain (decide/evolve),
// so every event has exactly the shape and metadata the write side records.
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../src/eventstore';
import {
  type Address,
  decide,
  evolve,
  initialState,
  type Order,
  type OrderCommand,
  orderEventSchemas,
  orderStream,
} from '../../src/orders';

/** A small deterministic PRNG (mulberry32): the same seed gives the same mix of histories. */
export const seededRandom = (seed: number) => {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export interface StreamAppend {
  stream: string;
  /** The stream's revision before this append ('no_stream' for the first event). */
  expectedRevision: bigint | 'no_stream';
  events: NewEvent[];
}

const ADDRESSES: Address[] = [
  { line1: '1 Main Street', city: 'Berlin', postalCode: '10115', country: 'DE' },
  { line1: '1 Rue de Rivoli', line2: 'Apt 4', city: 'Paris', postalCode: '75001', country: 'FR' },
  { line1: '221B Baker Street', city: 'London', postalCode: 'NW1 6XE', country: 'GB' },
  { line1: '350 Fifth Avenue', city: 'New York', postalCode: '10118', country: 'US' },
];
const CURRENCIES = ['USD', 'EUR', 'GBP'];

interface LiveOrder {
  orderId: string;
  state: Order;
  revision: bigint | 'no_stream';
}

/**
 * Yields appends of one event each, interleaving `liveOrders` orders at a time as a busy shop would:
 * place (1–3 lines) → add items / change address → confirm → ship, with some cancellations. A finished
 * order makes room for a new one. Times advance evenly over `days` days, so daily reports have data.
 */
export function* orderHistory(
  totalEvents: number,
  { seed = 42, liveOrders = 1000, customers = 20_000, days = 90 } = {},
): Generator<StreamAppend> {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const line = () => ({
    sku: `SKU-${Math.floor(random() * 500)}`,
    quantity: 1 + Math.floor(random() * 5),
    unitPrice: (100 + Math.floor(random() * 20_000)) / 100,
  });
  const start = Date.parse('2025-10-01T00:00:00.000Z');
  const stepMs = (days * 86_400_000) / totalEvents;
  const fresh = (): LiveOrder => ({ orderId: randomUUID(), state: initialState(), revision: 'no_stream' });
  const live = Array.from({ length: liveOrders }, fresh);

  const nextCommand = (order: LiveOrder, at: string): Pick<OrderCommand, 'type' | 'data'> => {
    const target = { orderId: order.orderId, at };
    const r = random();
    switch (order.state.status) {
      case 'none':
        return {
          type: 'PlaceOrder',
          data: {
            ...target,
            customerId: `customer-${Math.floor(random() * customers)}`,
            items: Array.from({ length: 1 + Math.floor(random() * 3) }, line),
            shippingAddress: pick(ADDRESSES),
            currency: pick(CURRENCIES),
          },
        };
      case 'pending':
        if (r < 0.35 && order.state.items.length < 6)
          return { type: 'AddItem', data: { ...target, ...line() } };
        if (r < 0.42)
          return { type: 'ChangeShippingAddress', data: { ...target, shippingAddress: pick(ADDRESSES) } };
        if (r < 0.5) return { type: 'CancelOrder', data: { ...target, reason: 'changed my mind' } };
        return { type: 'ConfirmOrder', data: target };
      default:
        if (r < 0.1) return { type: 'CancelOrder', data: target };
        return { type: 'ShipOrder', data: { ...target, trackingNumber: `1Z${Math.floor(random() * 1e9)}` } };
    }
  };

  for (let produced = 0; produced < totalEvents; ) {
    const slot = Math.floor(random() * live.length);
    let order = live[slot]!;
    if (order.state.status === 'shipped' || order.state.status === 'cancelled') {
      order = fresh();
      live[slot] = order;
    }
    const at = new Date(start + produced * stepMs).toISOString();
    const commandId = randomUUID();
    const command = {
      ...nextCommand(order, at),
      metadata: { commandId, correlationId: commandId, causationId: commandId },
    } as OrderCommand;
    const events = decide(command, order.state);
    yield {
      stream: orderStream(order.orderId),
      expectedRevision: order.revision,
      events: events.map((event) => ({
        id: randomUUID(),
        type: event.type,
        data: event.data,
        metadata: {
          ...command.metadata,
          commandType: command.type,
          schemaVersion: orderEventSchemas[event.type]?.current ?? 1,
        },
      })),
    };
    for (const event of events) order.state = evolve(order.state, event);
    order.revision = order.revision === 'no_stream' ? 0n : order.revision + BigInt(events.length);
    produced += events.length;
  }
}

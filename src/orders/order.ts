// The order aggregate: pure decide/evolve. No I/O, no clock, no ids — everything arrives in the command.
import { type Decider, InvalidTransition, LimitExceeded, NotFound, ValidationFailed } from '../cqrs/index.js';
import {
  type AddItem,
  type CancelOrder,
  type ChangeShippingAddress,
  type ConfirmOrder,
  MAX_LINES_PER_ORDER,
  MAX_QUANTITY_PER_LINE,
  type OrderCommand,
  type PlaceOrder,
  type PricedLine,
  type ShipOrder,
} from './commands.js';
import type { OrderEvent, OrderLine, OrderStatus } from './events.js';
import { decimalsMessage, hasAtMostDecimals, minorUnitsOf, toMinor } from './money.js';

type OrderPlaced = Extract<OrderEvent, { type: 'OrderPlaced' }>;

/** An order once placed: what OrderPlaced recorded (its id as `id`), kept current by the later events. */
export type PlacedOrder = { status: OrderStatus; id: string } & Omit<OrderPlaced['data'], 'orderId'>;

/** An order's state; `none` before it is placed (the stream does not exist). */
export type Order = { status: 'none' } | PlacedOrder;

export const initialState = (): Order => ({ status: 'none' });

/** The total of some lines in their minor unit; refused past 2^53, where integers in a double stop being exact. */
export const totalMinorOf = (items: readonly OrderLine[]): number => {
  const total = items.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);
  if (!Number.isSafeInteger(total)) {
    throw new LimitExceeded(`the order total would pass ${Number.MAX_SAFE_INTEGER} of its minor unit`);
  }
  return total;
};

const isSameLine = (a: OrderLine, b: OrderLine): boolean =>
  a.sku === b.sku && a.unitPriceMinor === b.unitPriceMinor;

/**
 * A client's line in the order's minor unit. Its price may have no more decimals than the currency has and
 * the order keeps (an order placed before minor units were recorded keeps hundredths); `path` names it.
 */
const inMinorUnits = (line: PricedLine, currency: string, minorUnits: number, path: string): OrderLine => {
  const decimals = Math.min(minorUnitsOf(currency), minorUnits);
  if (!hasAtMostDecimals(line.unitPrice, decimals)) {
    const message = decimalsMessage(decimals, currency);
    throw new ValidationFailed(`unitPrice ${message} (the order's currency)`, [{ path, message }]);
  }
  return { sku: line.sku, quantity: line.quantity, unitPriceMinor: toMinor(line.unitPrice, minorUnits) };
};

/** Adds a line, merging it into the line with the same sku and price; enforces the per-order limits. */
const withLine = (items: readonly OrderLine[], line: OrderLine): OrderLine[] => {
  const index = items.findIndex((existing) => isSameLine(existing, line));
  const quantity = (items[index]?.quantity ?? 0) + line.quantity;
  if (quantity > MAX_QUANTITY_PER_LINE) {
    throw new LimitExceeded(
      `line ${line.sku} would have quantity ${quantity}; a line has at most ${MAX_QUANTITY_PER_LINE}`,
    );
  }
  if (index !== -1) return items.map((item, i) => (i === index ? { ...item, quantity } : item));
  if (items.length >= MAX_LINES_PER_ORDER) {
    throw new LimitExceeded(`an order has at most ${MAX_LINES_PER_ORDER} lines`);
  }
  return [...items, { sku: line.sku, quantity, unitPriceMinor: line.unitPriceMinor }];
};

/** Facts every event after OrderPlaced repeats, so projections never read before they write. */
const factsOf = (order: PlacedOrder, totalMinor = order.totalMinor) => ({
  orderId: order.id,
  customerId: order.customerId,
  placedAt: order.placedAt,
  minorUnits: order.minorUnits,
  totalMinor,
});

const refuse = (order: PlacedOrder, command: OrderCommand): never => {
  throw new InvalidTransition(order.status, command.type, 'an order');
};

const placeOrder = (cmd: PlaceOrder, state: Order): OrderEvent[] => {
  if (state.status !== 'none') throw new InvalidTransition(state.status, cmd.type, 'an order');
  const { orderId, customerId, shippingAddress, currency, at } = cmd.data;
  const minorUnits = minorUnitsOf(currency);
  const items = cmd.data.items
    .map((line, i) => inMinorUnits(line, currency, minorUnits, `items.${i}.unitPrice`))
    .reduce<OrderLine[]>(withLine, []);
  return [
    {
      type: 'OrderPlaced',
      data: {
        orderId,
        customerId,
        items,
        shippingAddress,
        currency,
        minorUnits,
        totalMinor: totalMinorOf(items),
        placedAt: at,
      },
    },
  ];
};

const addItem = (cmd: AddItem, order: PlacedOrder): OrderEvent[] => {
  if (order.status !== 'pending') return refuse(order, cmd);
  const line = inMinorUnits(cmd.data, order.currency, order.minorUnits, 'unitPrice');
  const items = withLine(order.items, line);
  const data = { ...factsOf(order, totalMinorOf(items)), ...line, items, addedAt: cmd.data.at };
  return [{ type: 'OrderItemAdded', data }];
};

const changeShippingAddress = (cmd: ChangeShippingAddress, order: PlacedOrder): OrderEvent[] => {
  if (order.status !== 'pending' && order.status !== 'confirmed') return refuse(order, cmd);
  const data = { ...factsOf(order), shippingAddress: cmd.data.shippingAddress, changedAt: cmd.data.at };
  return [{ type: 'ShippingAddressChanged', data }];
};

const confirmOrder = (cmd: ConfirmOrder, order: PlacedOrder): OrderEvent[] => {
  if (order.status !== 'pending') return refuse(order, cmd);
  return [{ type: 'OrderConfirmed', data: { ...factsOf(order), confirmedAt: cmd.data.at } }];
};

const shipOrder = (cmd: ShipOrder, order: PlacedOrder): OrderEvent[] => {
  if (order.status !== 'confirmed') return refuse(order, cmd);
  const { trackingNumber, at } = cmd.data;
  const tracking = trackingNumber === undefined ? {} : { trackingNumber };
  return [{ type: 'OrderShipped', data: { ...factsOf(order), ...tracking, shippedAt: at } }];
};

const cancelOrder = (cmd: CancelOrder, order: PlacedOrder): OrderEvent[] => {
  if (order.status !== 'pending' && order.status !== 'confirmed') return refuse(order, cmd);
  const reason = cmd.data.reason?.trim();
  // A blank reason says nothing: record none rather than an empty string.
  const because = reason ? { reason } : {};
  const data = { ...factsOf(order), previousStatus: order.status, ...because, cancelledAt: cmd.data.at };
  return [{ type: 'OrderCancelled', data }];
};

/** Decides which events a command produces in a state, or throws the problem that explains why not. */
export const decide = (cmd: OrderCommand, state: Order): OrderEvent[] => {
  if (cmd.type === 'PlaceOrder') return placeOrder(cmd, state);
  if (state.status === 'none') throw new NotFound(`order ${cmd.data.orderId} does not exist`);
  switch (cmd.type) {
    case 'AddItem':
      return addItem(cmd, state);
    case 'ChangeShippingAddress':
      return changeShippingAddress(cmd, state);
    case 'ConfirmOrder':
      return confirmOrder(cmd, state);
    case 'ShipOrder':
      return shipOrder(cmd, state);
    case 'CancelOrder':
      return cancelOrder(cmd, state);
  }
};

const placed = (state: Order, event: OrderEvent): PlacedOrder => {
  // Only a corrupt stream has events before OrderPlaced; fail loudly rather than invent an order.
  if (state.status === 'none') throw new Error(`${event.type} before OrderPlaced`);
  return state;
};

/** Folds one recorded fact into the state; trusts the facts the event carries (items, totals). */
export const evolve = (state: Order, event: OrderEvent): Order => {
  switch (event.type) {
    case 'OrderPlaced': {
      const { orderId, ...placed } = event.data;
      return { status: 'pending', id: orderId, ...placed };
    }
    case 'OrderItemAdded':
      return { ...placed(state, event), items: event.data.items, totalMinor: event.data.totalMinor };
    case 'ShippingAddressChanged':
      return { ...placed(state, event), shippingAddress: event.data.shippingAddress };
    case 'OrderConfirmed':
      return { ...placed(state, event), status: 'confirmed' };
    case 'OrderShipped':
      return { ...placed(state, event), status: 'shipped' };
    case 'OrderCancelled':
      return { ...placed(state, event), status: 'cancelled' };
    default:
      // An event type newer than this code changes nothing this code decides on.
      return state;
  }
};

export const orderDecider: Decider<OrderCommand, OrderEvent, Order> = { initialState, evolve, decide };

import { defineProjection, type WriteBatch } from '../../readmodel/index.js';
import { ORDER_STREAM_PREFIX, type OrderEvent, type OrderStatus } from '../events.js';
import { fromMinor } from '../money.js';
import { epochMs, orderStatuses, ordersIndexKeys, projectionNames } from './keys.js';

interface OrderRef {
  orderId: string;
  placedAt: string;
  minorUnits: number;
  totalMinor: number;
}

/** The score of the total lists: the amount as a decimal, so orders with different minor units compare. */
const totalScore = ({ totalMinor, minorUnits }: OrderRef): number => fromMinor(totalMinor, minorUnits);

const indexIn = (w: WriteBatch, order: OrderRef, list: OrderStatus | 'all') =>
  w
    .zadd(ordersIndexKeys.byCreatedAt(list), epochMs(order.placedAt), order.orderId)
    .zadd(ordersIndexKeys.byTotal(list), totalScore(order), order.orderId);

/** Leaves every other status list, so membership depends only on the latest event (see customer-orders). */
const moveToStatus = (w: WriteBatch, order: OrderRef, status: OrderStatus) => {
  for (const other of orderStatuses) {
    if (other === status) continue;
    w.zrem(ordersIndexKeys.byCreatedAt(other), order.orderId).zrem(
      ordersIndexKeys.byTotal(other),
      order.orderId,
    );
  }
  indexIn(w, order, status);
};

export default defineProjection<OrderEvent>({
  name: projectionNames.ordersIndex,
  // 2: totals scored as decimal amounts (v1 scored hundredths).
  version: 2,
  streams: [ORDER_STREAM_PREFIX],
  acceptableLagMs: 5000, // back-office lists
  handlers: {
    OrderPlaced: ({ data }, w) => {
      indexIn(w, data, 'all');
      indexIn(w, data, 'pending');
    },
    // Items change only while pending (docs/api.md, the lifecycle), so the new total belongs in the pending list.
    OrderItemAdded: ({ data }, w) => {
      w.zadd(ordersIndexKeys.byTotal('all'), totalScore(data), data.orderId);
      w.zadd(ordersIndexKeys.byTotal('pending'), totalScore(data), data.orderId);
    },
    OrderConfirmed: ({ data }, w) => moveToStatus(w, data, 'confirmed'),
    OrderShipped: ({ data }, w) => moveToStatus(w, data, 'shipped'),
    OrderCancelled: ({ data }, w) => moveToStatus(w, data, 'cancelled'),
  },
});

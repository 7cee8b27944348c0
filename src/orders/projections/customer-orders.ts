import { defineProjection, type WriteBatch } from '../../readmodel/index.js';
import { ORDER_STREAM_PREFIX, type OrderEvent, type OrderStatus } from '../events.js';
import { customerOrdersKeys, epochMs, orderStatuses, projectionNames } from './keys.js';

interface OrderRef {
  orderId: string;
  customerId: string;
  placedAt: string;
}

/**
 * Puts the order in its new status set and takes it out of every other one: membership then depends only
 * on the latest event, so a parked or reordered event cannot leave an order in two status lists.
 */
const moveToStatus = (w: WriteBatch, { orderId, customerId, placedAt }: OrderRef, status: OrderStatus) => {
  for (const other of orderStatuses) {
    if (other !== status) w.zrem(customerOrdersKeys.orders(customerId, other), orderId);
  }
  w.zadd(customerOrdersKeys.orders(customerId, status), epochMs(placedAt), orderId);
};

export default defineProjection<OrderEvent>({
  name: projectionNames.customerOrders,
  version: 1,
  streams: [ORDER_STREAM_PREFIX],
  acceptableLagMs: 2000, // a customer reloads their list right after ordering
  handlers: {
    OrderPlaced: ({ data }, w) => {
      const score = epochMs(data.placedAt);
      w.zadd(customerOrdersKeys.orders(data.customerId), score, data.orderId);
      w.zadd(customerOrdersKeys.orders(data.customerId, 'pending'), score, data.orderId);
    },
    OrderConfirmed: ({ data }, w) => moveToStatus(w, data, 'confirmed'),
    OrderShipped: ({ data }, w) => moveToStatus(w, data, 'shipped'),
    OrderCancelled: ({ data }, w) => moveToStatus(w, data, 'cancelled'),
  },
});

import type { Projection } from '../../readmodel/index.js';
import customerOrders from './customer-orders.js';
import dailyRevenue from './daily-revenue.js';
import orderView from './order-view.js';
import ordersIndex from './orders-index.js';

export * from './keys.js';
export { customerOrders, dailyRevenue, ordersIndex, orderView };

/**
 * Every read model of orders. Widened to `Projection` (handlers typed per event type are not
 * assignable to the generic signature); safe because the projector dispatches on `event.type`.
 */
export const orderProjections: readonly Projection[] = [
  orderView,
  customerOrders,
  ordersIndex,
  dailyRevenue,
] as Projection[];

import type { Projection } from '../../readmodel';
import customerOrders from './customer-orders';
import dailyRevenue from './daily-revenue';
import orderView from './order-view';
import ordersIndex from './orders-index';

export * from './keys';
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

// The orders domain: everything of it behind this door, and the module the service mounts.
import { defineModule } from '../module';
import { orderEventSchemas } from './event-schemas';
import { orderCommandHandlers } from './handlers';
import { orderProjections } from './projections';
import { orderQueryHandlers } from './queries';
import { orderRoutes } from './routes';

/** Orders: six commands on an order stream, four read models, four queries, and their HTTP routes. */
export const orders = defineModule({
  name: 'orders',
  events: orderEventSchemas,
  projections: orderProjections,
  commands: (deps) => orderCommandHandlers(deps),
  queries: orderQueryHandlers,
  routes: orderRoutes,
});

export {
  type AddItem,
  AddItemBody,
  AddressBody,
  type CancelOrder,
  CancelOrderBody,
  type ChangeShippingAddress,
  type ConfirmOrder,
  MAX_LINES_PER_ORDER,
  MAX_QUANTITY_PER_LINE,
  MAX_UNIT_PRICE,
  type OrderCommand,
  type OrderCommandTarget,
  type OrderCommandType,
  type OrderDispatchOptions,
  type PlaceOrder,
  PlaceOrderBody,
  type PricedLine,
  type ShipOrder,
  ShipOrderBody,
} from './commands';
export {
  type OrderPlacedV1,
  orderEventSchemas,
  parseFreeFormAddress,
  upcastOrderEvent,
} from './event-schemas';
export {
  type Address,
  ORDER_STREAM_PREFIX,
  type OrderEvent,
  type OrderEventType,
  type OrderLine,
  type OrderStatus,
  orderStream,
} from './events';
export {
  createOrderCommandHandlers,
  type OrderCommandHandlersDeps,
  type OrderCommandResult,
  orderCommandHandlers,
} from './handlers';
export {
  decimalString,
  fromMinor,
  hasAtMostDecimals,
  MAX_MINOR_UNITS,
  minorUnitsOf,
  toMinor,
} from './money';
export {
  decide,
  evolve,
  initialState,
  type Order,
  orderDecider,
  type PlacedOrder,
  totalMinorOf,
} from './order';
export * from './projections';
export {
  type CustomerOrdersQuery,
  customerOrdersQuerySchema,
  dailyRevenueQuerySchema,
  datesBetween,
  type GetDailyRevenue,
  type GetOrderById,
  getOrderView,
  type ListCustomerOrders,
  type ListOrders,
  listCustomerOrders,
  listOrders,
  MAX_REPORT_DAYS,
  type OrderQuery,
  type OrdersQuery,
  ordersQuerySchema,
  type RevenueDay,
  readDailyRevenue,
  revenueOf,
} from './queries';
export { OrderIdParam } from './routes';
export { type OrderPage, type OrderView, OrderViewSchema, toOrderView } from './views';

// The orders domain: everything of it behind this door, and the module the service mounts.
import { defineModule } from '../module/index.js';
import { orderEventSchemas } from './event-schemas.js';
import { orderCommandHandlers } from './handlers.js';
import { orderProjections } from './projections/index.js';
import { orderQueryHandlers } from './queries.js';
import { orderRoutes } from './routes.js';

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
} from './commands.js';
export {
  type OrderPlacedV1,
  orderEventSchemas,
  parseFreeFormAddress,
  upcastOrderEvent,
} from './event-schemas.js';
export {
  type Address,
  ORDER_STREAM_PREFIX,
  type OrderEvent,
  type OrderEventType,
  type OrderLine,
  type OrderStatus,
  orderStream,
} from './events.js';
export {
  createOrderCommandHandlers,
  type OrderCommandHandlersDeps,
  type OrderCommandResult,
  orderCommandHandlers,
} from './handlers.js';
export {
  decimalString,
  fromMinor,
  hasAtMostDecimals,
  MAX_MINOR_UNITS,
  minorUnitsOf,
  toMinor,
} from './money.js';
export {
  decide,
  evolve,
  initialState,
  type Order,
  orderDecider,
  type PlacedOrder,
  totalMinorOf,
} from './order.js';
export * from './projections/index.js';
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
} from './queries.js';
export { OrderIdParam } from './routes.js';
export { type OrderPage, type OrderView, OrderViewSchema, toOrderView } from './views.js';

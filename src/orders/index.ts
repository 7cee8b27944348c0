// The orders domain (write side). Other folders import only this file.
export {
  type AddItem,
  AddItemBody,
  AddressBody,
  type CancelOrder,
  CancelOrderBody,
  type ChangeShippingAddress,
  type ConfirmOrder,
  hasAtMostTwoDecimals,
  MAX_LINES_PER_ORDER,
  MAX_QUANTITY_PER_LINE,
  MAX_UNIT_PRICE,
  type OrderCommand,
  type OrderCommandTarget,
  type OrderCommandType,
  type OrderDispatchOptions,
  type PlaceOrder,
  PlaceOrderBody,
  type ShipOrder,
  ShipOrderBody,
  toCents,
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
} from './handlers';
export {
  decide,
  evolve,
  initialState,
  type Order,
  orderDecider,
  type PlacedOrder,
  totalCentsOf,
} from './order';
export {
  customerOrdersQuerySchema,
  dailyRevenue,
  dailyRevenueQuerySchema,
  getOrderView,
  listCustomerOrders,
  listOrders,
  type OrderPage,
  type OrderView,
  ordersQuerySchema,
  type ReadContext,
} from './queries';

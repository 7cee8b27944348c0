import { z } from 'zod';
import type { RouteBuilder } from '../http/index.js';
import {
  AddItemBody,
  AddressBody,
  CancelOrderBody,
  ConfirmOrderBody,
  PlaceOrderBody,
  ShipOrderBody,
} from './commands.js';
import { orderStream } from './events.js';
import { projectionNames } from './projections/index.js';
import { customerOrdersQuerySchema, dailyRevenueQuerySchema, ordersQuerySchema } from './queries.js';
import { OrderPageSchema, OrderViewSchema, RevenueSchema } from './views.js';

export const OrderIdParam = z.object({
  // Ids are written lower-case; an upper-case UUID names the same order.
  id: z
    .uuid('must be a UUID')
    .toLowerCase()
    .meta({ description: 'The order id (a UUID; upper case is accepted).', example: crypto.randomUUID() }),
});

const CustomerParam = z.object({
  customerId: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1–64 characters of A–Z, a–z, 0–9, "_", "." or "-"')
    .meta({ description: 'The customer id.', example: 'customer-42' }),
});

const order = { kind: 'order', idField: 'orderId' };
const forExistingOrder = {
  404: 'Unknown order',
  409: 'Invalid transition (type ends in /invalid-transition), a limit exceeded, or a conflict that persisted',
  412: 'If-Match does not match the current version',
};

/** A command on an order that exists: its id in the path, 404 / 409 / 412 as the case may be. */
const onOrder = {
  params: OrderIdParam,
  idParam: 'id' as const,
  entity: order,
  errors: forExistingOrder,
};

/** The HTTP API of orders: six commands and four queries, each one declaration on the generic routes. */
export const orderRoutes = (r: RouteBuilder): void => {
  r.command({
    method: 'post',
    path: '/orders',
    operationId: 'placeOrder',
    summary: 'Place an order',
    body: PlaceOrderBody,
    entity: order,
    created: { location: (id) => `/orders/${id}` },
    errors: { 409: 'A persistent conflict' },
    toCommand: ({ id, body, at }) => ({ type: 'PlaceOrder', data: { ...body, orderId: id, at } }),
  });
  r.command({
    ...onOrder,
    method: 'post',
    path: '/orders/{id}/items',
    operationId: 'addOrderItem',
    summary: 'Add an item',
    body: AddItemBody,
    toCommand: ({ id, body, at }) => ({ type: 'AddItem', data: { ...body, orderId: id, at } }),
  });
  r.command({
    ...onOrder,
    method: 'put',
    path: '/orders/{id}/shipping-address',
    operationId: 'changeShippingAddress',
    summary: 'Change the shipping address',
    body: AddressBody,
    toCommand: ({ id, body, at }) => ({
      type: 'ChangeShippingAddress',
      data: { shippingAddress: body, orderId: id, at },
    }),
  });
  r.command({
    ...onOrder,
    method: 'post',
    path: '/orders/{id}/confirm',
    operationId: 'confirmOrder',
    summary: 'Confirm an order',
    body: ConfirmOrderBody,
    bodyRequired: false,
    toCommand: ({ id, at }) => ({ type: 'ConfirmOrder', data: { orderId: id, at } }),
  });
  r.command({
    ...onOrder,
    method: 'post',
    path: '/orders/{id}/ship',
    operationId: 'shipOrder',
    summary: 'Ship an order',
    body: ShipOrderBody,
    bodyRequired: false,
    toCommand: ({ id, body, at }) => ({ type: 'ShipOrder', data: { ...body, orderId: id, at } }),
  });
  r.command({
    ...onOrder,
    method: 'delete',
    path: '/orders/{id}',
    operationId: 'cancelOrder',
    summary: 'Cancel an order',
    body: CancelOrderBody,
    bodyRequired: false,
    toCommand: ({ id, body, at }) => ({ type: 'CancelOrder', data: { ...body, orderId: id, at } }),
  });

  r.query({
    path: '/orders/{id}',
    operationId: 'getOrder',
    summary: 'Read an order',
    params: OrderIdParam,
    toQuery: ({ params }) => ({ type: 'GetOrderById', params: { orderId: params.id } }),
    response: OrderViewSchema,
    reads: [projectionNames.orderView],
    version: {
      projection: projectionNames.orderView,
      stream: (params) => orderStream(params.id),
      of: (view) => view.version,
    },
    notFound: (params) => `order ${params.id} does not exist`,
    etag: (view) => view.version,
    live: true,
  });
  r.query({
    path: '/customers/{customerId}/orders',
    operationId: 'listCustomerOrders',
    summary: "A customer's orders, newest first",
    params: CustomerParam,
    query: customerOrdersQuerySchema,
    toQuery: ({ params, query }) => ({ type: 'ListCustomerOrders', params: { ...query, ...params } }),
    response: OrderPageSchema,
    reads: [projectionNames.customerOrders, projectionNames.orderView],
  });
  r.query({
    path: '/orders',
    operationId: 'listOrders',
    summary: 'All orders, filtered by status and sorted',
    query: ordersQuerySchema,
    toQuery: ({ query }) => ({ type: 'ListOrders', params: query }),
    response: OrderPageSchema,
    reads: [projectionNames.ordersIndex, projectionNames.orderView],
  });
  r.query({
    path: '/reports/daily-revenue',
    operationId: 'getDailyRevenue',
    summary: 'Orders placed, cancelled and shipped, and revenue, per UTC day (at most 366 days)',
    query: dailyRevenueQuerySchema,
    toQuery: ({ query }) => ({ type: 'GetDailyRevenue', params: query }),
    response: RevenueSchema,
    reads: [projectionNames.dailyRevenue],
  });
};

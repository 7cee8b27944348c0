import { defineProjection, type ProjectedEvent, type WriteBatch } from '../../readmodel';
import { ORDER_STREAM_PREFIX, type OrderEvent, type OrderLine } from '../events';
import { orderViewKeys, projectionNames } from './keys';

/** Lines as the API shows them: unitPrice a decimal number (cents / 100 prints with at most 2 decimals). */
export const viewItems = (items: OrderLine[]): string =>
  JSON.stringify(
    items.map(({ sku, quantity, unitPriceCents }) => ({ sku, quantity, unitPrice: unitPriceCents / 100 })),
  );

/** Every event stamps the view, so `version` answers read-your-writes (`minVersion`). */
const stamp = (event: ProjectedEvent, updatedAt: string) => ({ updatedAt, version: event.revision });

const updateView = (
  w: WriteBatch,
  event: ProjectedEvent<string, { orderId: string }>,
  updatedAt: string,
  fields: Record<string, string | number | undefined>,
) => w.hset(orderViewKeys.order(event.data.orderId), { ...fields, ...stamp(event, updatedAt) });

export default defineProjection<OrderEvent>({
  name: projectionNames.orderView,
  version: 1,
  streams: [ORDER_STREAM_PREFIX],
  handlers: {
    OrderPlaced: (e, w) => {
      const { data } = e;
      updateView(w, e, data.placedAt, {
        orderId: data.orderId,
        customerId: data.customerId,
        status: 'pending',
        items: viewItems(data.items),
        totalCents: data.totalCents,
        currency: data.currency,
        shippingAddress: JSON.stringify(data.shippingAddress),
        createdAt: data.placedAt,
      });
    },
    OrderItemAdded: (e, w) => {
      updateView(w, e, e.data.addedAt, { items: viewItems(e.data.items), totalCents: e.data.totalCents });
    },
    ShippingAddressChanged: (e, w) => {
      updateView(w, e, e.data.changedAt, { shippingAddress: JSON.stringify(e.data.shippingAddress) });
    },
    OrderConfirmed: (e, w) => {
      updateView(w, e, e.data.confirmedAt, { status: 'confirmed' });
    },
    OrderShipped: (e, w) => {
      updateView(w, e, e.data.shippedAt, { status: 'shipped', trackingNumber: e.data.trackingNumber });
    },
    OrderCancelled: (e, w) => {
      updateView(w, e, e.data.cancelledAt, { status: 'cancelled', cancellationReason: e.data.reason });
    },
  },
});

import { defineProjection, type ProjectedEvent, type WriteBatch } from '../../readmodel/index.js';
import { ORDER_STREAM_PREFIX, type OrderEvent, type OrderLine } from '../events.js';
import { fromMinor } from '../money.js';
import { orderViewKeys, projectionNames } from './keys.js';

/** Lines as the API shows them: unitPrice a decimal number with the order's decimals at most. */
export const viewItems = (items: OrderLine[], minorUnits: number): string =>
  JSON.stringify(
    items.map(({ sku, quantity, unitPriceMinor }) => ({
      sku,
      quantity,
      unitPrice: fromMinor(unitPriceMinor, minorUnits),
    })),
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
  // 2: amounts in the order's minor unit (totalMinor, minorUnits) instead of totalCents.
  version: 2,
  streams: [ORDER_STREAM_PREFIX],
  acceptableLagMs: 2000, // what read-your-writes waits for: seconds behind is already visible to users
  handlers: {
    OrderPlaced: (e, w) => {
      const { data } = e;
      updateView(w, e, data.placedAt, {
        orderId: data.orderId,
        customerId: data.customerId,
        status: 'pending',
        items: viewItems(data.items, data.minorUnits),
        totalMinor: data.totalMinor,
        minorUnits: data.minorUnits,
        currency: data.currency,
        shippingAddress: JSON.stringify(data.shippingAddress),
        createdAt: data.placedAt,
      });
    },
    OrderItemAdded: (e, w) => {
      const { items, minorUnits, totalMinor, addedAt } = e.data;
      updateView(w, e, addedAt, { items: viewItems(items, minorUnits), totalMinor });
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

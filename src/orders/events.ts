/**
 * Order events: the facts the write side records. Times are ISO 8601 strings. Money is an integer count
 * of the order's minor unit: `unitPriceMinor` and `totalMinor` × 10^-minorUnits, where `minorUnits` is the
 * currency's ISO 4217 exponent when the order was placed (2 for every order written before it was recorded).
 */

export type OrderStatus = 'pending' | 'confirmed' | 'shipped' | 'cancelled';

export interface Address {
  line1: string;
  line2?: string;
  city: string;
  postalCode: string;
  country: string;
}

export interface OrderLine {
  sku: string;
  quantity: number;
  unitPriceMinor: number;
}

/**
 * Facts every event after OrderPlaced repeats, so projections never need to read before they write
 * (which status set to leave, which customer, which createdAt / total score).
 */
interface OrderFacts {
  orderId: string;
  customerId: string;
  placedAt: string;
  /** Decimals of the order's amounts: fixed when it is placed. */
  minorUnits: number;
  /** The order's total after this event, in 10^-minorUnits. */
  totalMinor: number;
}

export type OrderEvent =
  | {
      type: 'OrderPlaced';
      data: {
        orderId: string;
        customerId: string;
        items: OrderLine[];
        shippingAddress: Address;
        currency: string;
        minorUnits: number;
        totalMinor: number;
        placedAt: string;
      };
    }
  | {
      type: 'OrderItemAdded';
      data: OrderFacts & {
        sku: string;
        quantity: number;
        unitPriceMinor: number;
        /** The order's lines after the addition. */
        items: OrderLine[];
        addedAt: string;
      };
    }
  | { type: 'ShippingAddressChanged'; data: OrderFacts & { shippingAddress: Address; changedAt: string } }
  | { type: 'OrderConfirmed'; data: OrderFacts & { confirmedAt: string } }
  | { type: 'OrderShipped'; data: OrderFacts & { trackingNumber?: string; shippedAt: string } }
  | {
      type: 'OrderCancelled';
      data: OrderFacts & { previousStatus: 'pending' | 'confirmed'; reason?: string; cancelledAt: string };
    };

export type OrderEventType = OrderEvent['type'];

export const ORDER_STREAM_PREFIX = 'order-';
export const orderStream = (orderId: string): string => `${ORDER_STREAM_PREFIX}${orderId}`;

import { randomUUID } from 'node:crypto';
import type { Address, OrderCommand, OrderCommandType, OrderEvent } from '../../src/orders';

/** Builds an order command as the HTTP layer would: fresh ids unless the test pins them. */
export const orderCommand = <T extends OrderCommandType>(
  type: T,
  data: Extract<OrderCommand, { type: T }>['data'],
  options: { commandId?: string; requestHash?: string; expectedVersion?: bigint } = {},
): Extract<OrderCommand, { type: T }> => {
  const commandId = options.commandId ?? randomUUID();
  const { requestHash, expectedVersion } = options;
  return {
    type,
    data,
    metadata: {
      commandId,
      correlationId: commandId,
      causationId: commandId,
      ...(requestHash === undefined ? {} : { requestHash }),
    },
    ...(expectedVersion === undefined ? {} : { expectedVersion }),
  } as Extract<OrderCommand, { type: T }>;
};

export const berlin: Address = {
  line1: 'Invalidenstraße 1',
  city: 'Berlin',
  postalCode: '10115',
  country: 'DE',
};
export const paris: Address = { line1: '1 Rue de Rivoli', city: 'Paris', postalCode: '75001', country: 'FR' };

export const PLACED_AT = '2026-01-10T09:00:00.000Z';
export const LATER = '2026-01-10T10:00:00.000Z';

/** An OrderPlaced as the aggregate itself would record it: 2 × 19.99 + 1 × 5.00 = 4498 hundredths. */
export const orderPlaced = (orderId: string, customerId = 'customer-1'): OrderEvent => ({
  type: 'OrderPlaced',
  data: {
    orderId,
    customerId,
    items: [
      { sku: 'SKU-1', quantity: 2, unitPriceMinor: 1999 },
      { sku: 'SKU-2', quantity: 1, unitPriceMinor: 500 },
    ],
    shippingAddress: berlin,
    currency: 'EUR',
    minorUnits: 2,
    totalMinor: 4498,
    placedAt: PLACED_AT,
  },
});

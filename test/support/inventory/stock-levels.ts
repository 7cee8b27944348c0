// The read side of the inventory module: one projection and the query that reads it.
import type { Query } from '../../../src/cqrs';
import { defineProjection, type ReadContext } from '../../../src/readmodel';
import type { StockReserved } from './stock';

export const STOCK_LEVELS = 'stock-levels';
const stockKey = (sku: string) => `stock:${sku}`;

/** Units reserved per SKU; `version` is the SKU stream's revision, so `?minVersion=` reads your write. */
export const stockLevels = defineProjection<StockReserved>({
  name: STOCK_LEVELS,
  version: 1,
  streams: ['stock-'],
  handlers: {
    StockReserved: (event, w) => {
      w.hincrby(stockKey(event.data.sku), 'reserved', event.data.quantity);
      w.hset(stockKey(event.data.sku), { sku: event.data.sku, version: event.revision });
    },
  },
});

export interface StockView {
  sku: string;
  reserved: number;
  version: number;
}

export type GetStock = Query<'GetStock', { sku: string }>;

/** GetStock → StockView | null (null: nothing was ever reserved of that SKU). */
export const stockQueryHandlers = {
  GetStock: async (query: GetStock, read: ReadContext): Promise<StockView | null> => {
    const { keyOf, redis } = await read.projection(STOCK_LEVELS);
    const [hash] = await redis
      .multi()
      .hGetAll(keyOf(stockKey(query.params.sku)))
      .exec();
    const fields = (hash ?? {}) as Record<string, string>;
    if (fields.sku === undefined) return null;
    return { sku: fields.sku, reserved: Number(fields.reserved), version: Number(fields.version) };
  },
};

// The write side of the inventory module: one command, one event, a pure decider.
import {
  type Command,
  createUpcaster,
  type Decider,
  type EventSchemas,
  executeStreamCommand,
  LimitExceeded,
  type StreamCommandResult,
} from '../../../src/cqrs';
import type { CommandDeps, DispatchedCommand } from '../../../src/module';

/** At most this many units of one SKU may be reserved. */
export const MAX_RESERVED = 1000;

export const stockStream = (sku: string): string => `stock-${sku}`;

export type ReserveStock = Command<'ReserveStock', { sku: string; quantity: number; at: string }>;

export type StockReserved = {
  type: 'StockReserved';
  data: { sku: string; quantity: number; reservedAt: string };
};

/** v1 was `{ sku, qty, at }`; the upcaster renames the fields, so code only ever sees v2. */
export const stockEventSchemas: EventSchemas = {
  StockReserved: {
    current: 2,
    steps: {
      1: (data) => {
        const { sku, qty, at } = data as { sku: string; qty: number; at: string };
        return { sku, quantity: qty, reservedAt: at };
      },
    },
  },
};

interface Stock {
  reserved: number;
}

export const stockDecider: Decider<ReserveStock, StockReserved, Stock> = {
  initialState: () => ({ reserved: 0 }),
  evolve: (stock, event) => ({ reserved: stock.reserved + event.data.quantity }),
  decide: ({ data }, stock) => {
    const reservedTotal = stock.reserved + data.quantity;
    if (reservedTotal > MAX_RESERVED)
      throw new LimitExceeded(`${data.sku} would have ${reservedTotal} reserved; at most ${MAX_RESERVED}`);
    return [{ type: 'StockReserved', data: { sku: data.sku, quantity: data.quantity, reservedAt: data.at } }];
  },
};

export const stockCommandHandlers = ({ store, onConflict, onRetry }: CommandDeps) => ({
  ReserveStock: async (command: DispatchedCommand): Promise<StreamCommandResult & { sku: string }> => {
    const reserve = command as ReserveStock & DispatchedCommand;
    const context = { store, schemas: stockEventSchemas, upcast: createUpcaster(stockEventSchemas) };
    const result = await executeStreamCommand(context, stockDecider, stockStream(reserve.data.sku), reserve, {
      expectedVersion: command.expectedVersion,
      onConflict: () => onConflict?.(command.type),
      onRetry: () => onRetry?.(command.type),
    });
    return { ...result, sku: reserve.data.sku };
  },
});

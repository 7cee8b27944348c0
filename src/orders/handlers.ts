import {
  type CommandBus,
  createCommandBus,
  type DispatchObserver,
  executeStreamCommand,
  NotFound,
  type StreamCommandContext,
  type StreamCommandResult,
} from '../cqrs/index.js';
import type { StreamRevision } from '../eventstore/index.js';
import type { CommandDeps } from '../module/index.js';
import type { OrderCommand, OrderCommandType } from './commands.js';
import { orderEventSchemas, upcastOrderEvent } from './event-schemas.js';
import { orderStream } from './events.js';
import { orderDecider } from './order.js';

export type OrderCommandResult = StreamCommandResult & { orderId: string };

export interface OrderCommandHandlersDeps extends CommandDeps {
  /** Sees every dispatch with its outcome and duration (metrics, logs). */
  observe?: DispatchObserver;
  /** Conflict retries before giving up with ConcurrencyConflict (default 10). */
  maxConflictRetries?: number;
}

// Checked before If-Match, so a missing order is a 404 rather than a 412.
const orderMustExist =
  (orderId: string) =>
  (revision: StreamRevision | 'no_stream'): void => {
    if (revision === 'no_stream') throw new NotFound(`order ${orderId} does not exist`);
  };

/**
 * The write side of orders, one handler per command type: each command loads its order stream, decides,
 * and appends at the revision it read. `command.expectedVersion` (from If-Match) pins the revision.
 */
export const orderCommandHandlers = (
  deps: Omit<OrderCommandHandlersDeps, 'observe'>,
): {
  [T in OrderCommandType]: (command: Extract<OrderCommand, { type: T }>) => Promise<OrderCommandResult>;
} => {
  const context = (command: OrderCommand): StreamCommandContext => ({
    store: deps.store,
    schemas: orderEventSchemas,
    upcast: upcastOrderEvent,
    assertExists: command.type === 'PlaceOrder' ? undefined : orderMustExist(command.data.orderId),
  });

  const handle = async (command: OrderCommand): Promise<OrderCommandResult> => {
    const { orderId } = command.data;
    const result = await executeStreamCommand(context(command), orderDecider, orderStream(orderId), command, {
      expectedVersion: command.expectedVersion,
      likelyNew: command.type === 'PlaceOrder', // its order id was just made
      maxConflictRetries: deps.maxConflictRetries,
      onConflict: () => deps.onConflict?.(command.type),
      onRetry: () => deps.onRetry?.(command.type),
    });
    return { ...result, orderId };
  };

  return {
    PlaceOrder: handle,
    AddItem: handle,
    ChangeShippingAddress: handle,
    ConfirmOrder: handle,
    ShipOrder: handle,
    CancelOrder: handle,
  };
};

/** The orders' commands behind a bus of their own (the service mounts one bus over every module). */
export const createOrderCommandHandlers = (
  deps: OrderCommandHandlersDeps,
): CommandBus<OrderCommand, OrderCommandResult> =>
  createCommandBus<OrderCommand, OrderCommandResult>(orderCommandHandlers(deps), deps.observe);

import type { RedisWrite } from '../../src/readmodel/projection';

/** The one command the helper needs; any node-redis v5 client has it. */
interface CommandSender {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * Applies recorded writes the way the projector would, minus atomicity and checkpoints: each write as one
 * command on its absolute key. node-redis pipelines the commands and keeps their order on the connection.
 */
export const applyWrites = async (
  redis: CommandSender,
  keyOf: (relativeKey: string) => string,
  writes: readonly RedisWrite[],
): Promise<void> => {
  await Promise.all(
    writes.map(({ command, key, args }) => redis.sendCommand([command, keyOf(key), ...args])),
  );
};

import { createHash } from 'node:crypto';
import { ErrorReply } from 'redis';

/** A Lua script with its sha, run by EVALSHA (and EVAL when the server does not know it yet). */
export interface RedisScript {
  source: string;
  sha: string;
}

export const luaScript = (source: string): RedisScript => ({
  source,
  sha: createHash('sha1').update(source).digest('hex'),
});

/** Sends one command to the primary that serves `key` (the script's first key). */
export type SendToPrimary = (key: string, args: string[]) => Promise<unknown>;

/** EVALSHA, loading the script with EVAL on NOSCRIPT (after a restart, a failover or a SCRIPT FLUSH). */
export const evalScript = async (
  send: SendToPrimary,
  { source, sha }: RedisScript,
  keys: string[],
  args: string[],
): Promise<unknown> => {
  const key = keys[0] ?? '';
  try {
    return await send(key, ['EVALSHA', sha, String(keys.length), ...keys, ...args]);
  } catch (error) {
    if (!(error instanceof ErrorReply) || !error.message.startsWith('NOSCRIPT')) throw error;
    return send(key, ['EVAL', source, String(keys.length), ...keys, ...args]);
  }
};

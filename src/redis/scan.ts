import type { Redis } from './redis.js';

/** `*`, `?`, `[`, `]` and `\` matched as themselves in a SCAN pattern. */
export const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');

/**
 * Every key that starts with `prefix`, in batches, on every primary (a Cluster spreads keys over nodes).
 * SCAN, never KEYS: the server answers between batches. `onBatch` answers false to stop early.
 */
export const scanPrefix = async (
  redis: Redis,
  prefix: string,
  onBatch: (keys: string[]) => Promise<boolean | undefined> | boolean | undefined,
  count = 1000,
): Promise<void> => {
  const match = `${globEscape(prefix)}*`;
  for (const node of await redis.primaries()) {
    let cursor = '0';
    do {
      const [next, keys] = (await node.send(['SCAN', cursor, 'MATCH', match, 'COUNT', String(count)])) as [
        string,
        string[],
      ];
      cursor = next;
      if (keys.length > 0 && (await onBatch(keys)) === false) return;
    } while (cursor !== '0');
  }
};

/** True when at least one key starts with `prefix` (stops at the first one found). */
export const anyKeyWithPrefix = async (redis: Redis, prefix: string): Promise<boolean> => {
  let found = false;
  await scanPrefix(redis, prefix, () => {
    found = true;
    return false;
  });
  return found;
};

/** What projectors PUBLISH and every process's single subscriber fans out to in-memory waiters. */
export type Notification =
  | {
      kind: 'applied';
      projection: string;
      generation: number;
      /** The generation's checkpoint after the batch (decimal string). */
      position: string;
      /** stream → revision for the streams the batch touched; absent when there were too many to list. */
      streams?: Record<string, string>;
    }
  | { kind: 'flipped'; projection: string; generation: number }
  /** The generation was marked not to be trusted (see GenerationUntrusted): nothing is fresh from it. */
  | { kind: 'untrusted'; projection: string; generation: number };

const KINDS = new Set<string>(['applied', 'flipped', 'untrusted']);

/** Past this many streams a notification says "re-check" instead of listing them: messages stay small. */
export const MAX_LISTED_STREAMS = 200;

export const encodeNotification = (notification: Notification): string => JSON.stringify(notification);

export const decodeNotification = (message: string): Notification | undefined => {
  try {
    const value = JSON.parse(message) as Notification;
    // A kind this release does not know (published by a newer one) is no news to it.
    return value && typeof value.projection === 'string' && KINDS.has(value.kind) ? value : undefined;
  } catch {
    return undefined;
  }
};

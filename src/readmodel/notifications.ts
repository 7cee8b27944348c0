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
  | { kind: 'flipped'; projection: string; generation: number };

/** Past this many streams a notification says "re-check" instead of listing them: messages stay small. */
export const MAX_LISTED_STREAMS = 200;

export const encodeNotification = (notification: Notification): string => JSON.stringify(notification);

export const decodeNotification = (message: string): Notification | undefined => {
  try {
    const value = JSON.parse(message) as Notification;
    return value && typeof value.projection === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
};

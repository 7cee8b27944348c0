import { decodeNotification, type Notification } from './notifications';
import type { RedisClient } from './redis';

export type NotificationListener = (notification: Notification) => void;

/**
 * One subscriber connection per process, fanned out in memory to every waiter: a thousand waiting
 * reads cost one Redis connection and one message per batch, not a thousand polls.
 */
export class NotificationHub {
  private readonly listeners = new Set<NotificationListener>();
  private subscriber: RedisClient | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly channel: string,
    /** Called when the subscriber (re)connects: anything cached from notifications may have been missed. */
    private readonly onResubscribed?: () => void,
  ) {}

  async start(): Promise<void> {
    const subscriber = this.redis.duplicate();
    subscriber.on('error', () => {}); // the main client reports connection errors; this one just reconnects
    subscriber.on('ready', () => this.onResubscribed?.());
    await subscriber.connect();
    await subscriber.subscribe(this.channel, (message: string) => this.dispatch(message));
    this.subscriber = subscriber;
  }

  listen(listener: NotificationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get waiting(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) subscriber.destroy();
  }

  private dispatch(message: string): void {
    const notification = decodeNotification(message);
    if (notification === undefined) return;
    for (const listener of this.listeners) listener(notification);
  }
}

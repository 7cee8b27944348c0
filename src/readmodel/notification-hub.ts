import { decodeNotification, type Notification } from './notifications';
import type { RedisClient } from './redis';

export type NotificationListener = (notification: Notification) => void;

/** How long start() waits for the first subscription before it lets start-up go on without it. */
const START_WAIT_MS = 2000;

/**
 * One subscriber connection per process, fanned out in memory to every waiter: a thousand waiting
 * reads cost one Redis connection and one message per batch, not a thousand polls.
 *
 * node-redis reconnects the subscriber by itself and re-sends the SUBSCRIBE before it reports `ready`;
 * on each `ready` the hub tells its reconnect listeners, because messages published while it was away
 * are lost and anything that waits on them must look at Redis again.
 */
export class NotificationHub {
  private readonly listeners = new Set<NotificationListener>();
  private readonly reconnectListeners = new Set<() => void>();
  private subscriber: RedisClient | undefined;
  private subscribedOnce = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly channel: string,
    /** Called when the subscriber (re)connects: anything cached from notifications may have been missed. */
    private readonly onResubscribed?: () => void,
  ) {}

  /**
   * Subscribes; resolves once subscribed. With Redis down it rejects after a short wait and keeps
   * subscribing in the background, so start-up never hangs on Redis (commands work without it).
   */
  async start(waitMs = START_WAIT_MS): Promise<void> {
    if (this.subscriber !== undefined) return;
    const subscriber = this.redis.duplicate();
    this.subscriber = subscriber;
    let firstSubscription: () => void = () => {};
    const subscribed = new Promise<true>((resolve) => {
      firstSubscription = () => resolve(true);
    });
    subscriber.on('error', () => {}); // the main client reports connection errors; this one just reconnects
    subscriber.on('ready', () => void this.onReady(subscriber, firstSubscription));
    subscriber.connect().catch(() => {}); // closed before it ever connected
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), waitMs);
    });
    const done = await Promise.race([subscribed, gaveUp]).finally(() => clearTimeout(timer));
    if (!done) throw new Error(`Redis did not answer within ${waitMs} ms; subscribing in the background`);
  }

  listen(listener: NotificationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `listener` runs after every (re)subscription: notifications may have been missed just before. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  get waiting(): number {
    return this.listeners.size;
  }

  /** True while the subscriber is connected and subscribed. */
  get subscribed(): boolean {
    return this.subscriber?.isReady ?? false;
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.subscribedOnce = false;
    if (subscriber?.isOpen) subscriber.destroy();
  }

  /** node-redis re-sends an accepted SUBSCRIBE itself on reconnect; until one is accepted, each ready tries. */
  private async onReady(subscriber: RedisClient, firstSubscription: () => void): Promise<void> {
    if (this.subscriber !== subscriber) return; // closed meanwhile
    if (!this.subscribedOnce) {
      try {
        await subscriber.subscribe(this.channel, (message: string) => this.dispatch(message));
      } catch {
        return; // the connection dropped again: the next ready tries again
      }
      this.subscribedOnce = true;
      firstSubscription();
    }
    this.onResubscribed?.();
    for (const listener of [...this.reconnectListeners]) listener();
  }

  private dispatch(message: string): void {
    const notification = decodeNotification(message);
    if (notification === undefined) return;
    for (const listener of this.listeners) listener(notification);
  }
}

import type { Redis, RedisSubscription } from '../redis/index.js';
import { decodeNotification, type Notification } from './notifications.js';

export type NotificationListener = (notification: Notification) => void;

/** How long start() waits for the first subscription before it lets start-up go on without it. */
const START_WAIT_MS = 2000;
/** How many of the latest notifications the hub keeps, for a reader that asks what came since a mark. */
const KEPT = 1024;

/** Where the hub was at one moment: what a reader compares against later (see `since`). */
export interface HubMark {
  received: number;
  reconnects: number;
}

/**
 * One subscription per process (one connection per node that carries a projection's channel), fanned out in
 * memory to every waiter: a thousand waiting reads cost one message per batch, not a thousand polls.
 *
 * The subscription follows reconnects and failovers; after each re-subscription the hub tells its reconnect
 * listeners, because messages published while it was away are lost and anything that waits on them must
 * look at Redis again.
 */
export class NotificationHub {
  private readonly listeners = new Set<NotificationListener>();
  private readonly reconnectListeners = new Set<() => void>();
  private resubscriptions = 0;
  private subscription: RedisSubscription | undefined;
  /** The latest KEPT notifications, a ring: notification n (counting from 0) is at n % KEPT. */
  private readonly kept: Notification[] = [];
  private received = 0;

  constructor(
    private readonly redis: Redis,
    /** One channel per projection (ReadModelKeys.notifications). */
    private readonly channels: string[],
    /** Called when the subscriber (re)connects: anything cached from notifications may have been missed. */
    private readonly onResubscribed?: () => void,
  ) {}

  /**
   * Subscribes; resolves once subscribed. With Redis down it rejects after a short wait and keeps
   * subscribing in the background, so start-up never hangs on Redis (commands work without it).
   */
  async start(waitMs = START_WAIT_MS): Promise<void> {
    if (this.subscription !== undefined) return;
    const subscription = this.redis.subscribe({
      channels: this.channels,
      onMessage: (message) => this.dispatch(message),
      onResubscribed: () => {
        this.resubscriptions += 1;
        this.onResubscribed?.();
        for (const listener of [...this.reconnectListeners]) listener();
      },
    });
    this.subscription = subscription;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), waitMs);
    });
    const done = await Promise.race([subscription.subscribed.then(() => true), gaveUp]).finally(() =>
      clearTimeout(timer),
    );
    if (!done) throw new Error(`Redis did not answer within ${waitMs} ms; subscribing in the background`);
  }

  listen(listener: NotificationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `listener` runs after every re-subscription: notifications may have been missed just before. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /** Re-subscriptions so far: a waiter that saw it change may have missed notifications. */
  get reconnects(): number {
    return this.resubscriptions;
  }

  /** Now, to ask later what arrived since (costs nothing: no listener to add and remove). */
  mark(): HubMark {
    return { received: this.received, reconnects: this.resubscriptions };
  }

  /**
   * The notifications received since `mark`, oldest first; undefined when some may be missing: the subscriber
   * re-subscribed meanwhile (messages are lost while it is away), or more arrived than the hub keeps.
   */
  since(mark: HubMark): Notification[] | undefined {
    if (mark.reconnects !== this.resubscriptions || this.received - mark.received > KEPT) return undefined;
    const missed: Notification[] = [];
    for (let n = mark.received; n < this.received; n++) missed.push(this.kept[n % KEPT]!);
    return missed;
  }

  get waiting(): number {
    return this.listeners.size;
  }

  /** True while every channel is subscribed on a connection that is up. */
  get subscribed(): boolean {
    return this.subscription?.isReady ?? false;
  }

  async close(): Promise<void> {
    this.subscription?.close();
    this.subscription = undefined;
  }

  private dispatch(message: string): void {
    const notification = decodeNotification(message);
    if (notification === undefined) return;
    this.kept[this.received % KEPT] = notification;
    this.received += 1;
    for (const listener of this.listeners) listener(notification);
  }
}

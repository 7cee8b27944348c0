import type { RedisClientType } from 'redis';

export interface SubscriptionOptions {
  channels: string[];
  onMessage: (message: string, channel: string) => void;
  /**
   * Runs after every (re)subscription but the first: messages published while a connection was down or
   * moving to a new node are lost, so anything waiting on them must look at Redis again.
   */
  onResubscribed: () => void;
}

export interface RedisSubscription {
  /** Resolves once every channel has been subscribed once. */
  readonly subscribed: Promise<void>;
  /** True while every channel is subscribed on a connection that is up. */
  readonly isReady: boolean;
  close(): void;
}

/** How a topology tells a subscriber where to listen. */
export interface SubscriberRouting {
  /** SSUBSCRIBE (a Cluster's sharded pub/sub) instead of SUBSCRIBE. */
  sharded: boolean;
  /** The node a channel's messages reach now, as `host:port` (or a URL); undefined while unknown. */
  addressOf: (channel: string) => string | undefined;
  /** A plain client for that node, not connected yet. */
  clientFor: (address: string) => RedisClientType;
  /** Asks the topology to look again (a node stopped answering: maybe it failed over). */
  refreshTopology?: () => void;
}

/** How often the subscriber checks that each channel still listens where its messages go. */
const RECONCILE_EVERY_MS = 500;

interface Connection {
  client: RedisClientType;
  channels: Set<string>;
  /** Channels subscribed on this connection (node-redis re-sends them itself after a reconnect). */
  subscribed: Set<string>;
  readyOnce: boolean;
}

/**
 * Listens on a set of channels with one plain connection per node, wherever the topology says each
 * channel's messages go now. Every half second, and whenever a connection drops, it checks where each
 * channel belongs: a Sentinel or Cluster failover moves a channel to the new primary. node-redis clients
 * reconnect to the same address by themselves, but never follow a failover, hence this class.
 */
export class ChannelSubscriber implements RedisSubscription {
  private readonly connections = new Map<string, Connection>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private reconciling = false;
  /** Every channel was subscribed at some point: later subscriptions are re-subscriptions. */
  private wasReady = false;
  private firstDone: () => void = () => {};
  readonly subscribed: Promise<void>;
  /** One listener for every channel: subscribing a channel again never delivers its messages twice. */
  private readonly listener = (message: string, channel: string) => this.options.onMessage(message, channel);

  constructor(
    private readonly routing: SubscriberRouting,
    private readonly options: SubscriptionOptions,
  ) {
    this.subscribed = new Promise((resolve) => {
      this.firstDone = resolve;
    });
    this.timer = setInterval(() => void this.reconcile(), RECONCILE_EVERY_MS);
    this.timer.unref();
    void this.reconcile();
  }

  get isReady(): boolean {
    for (const channel of this.options.channels) {
      const connection = this.connectionOf(channel);
      if (connection === undefined || !connection.client.isReady || !connection.subscribed.has(channel))
        return false;
    }
    return true;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const { client } of this.connections.values()) if (client.isOpen) client.destroy();
    this.connections.clear();
  }

  private connectionOf(channel: string): Connection | undefined {
    for (const connection of this.connections.values())
      if (connection.channels.has(channel)) return connection;
    return undefined;
  }

  private async reconcile(): Promise<void> {
    if (this.closed || this.reconciling) return;
    this.reconciling = true;
    try {
      for (const channel of this.options.channels) {
        const address = this.routing.addressOf(channel);
        if (address === undefined) continue;
        const current = this.connectionOf(channel);
        if (current !== undefined && this.connections.get(address) === current) continue;
        if (current !== undefined) {
          current.channels.delete(channel);
          current.subscribed.delete(channel);
          this.unsubscribe(current.client, channel);
        }
        this.connection(address).channels.add(channel);
      }
      let added = 0;
      for (const [address, connection] of this.connections) {
        if (connection.channels.size === 0) {
          this.connections.delete(address);
          if (connection.client.isOpen) connection.client.destroy();
        } else if (connection.client.isReady) {
          added += await this.subscribeAll(connection);
        } else {
          this.routing.refreshTopology?.();
        }
      }
      if (!this.isReady) return;
      if (this.wasReady && added > 0) this.options.onResubscribed();
      this.wasReady = true;
      this.firstDone();
    } finally {
      this.reconciling = false;
    }
  }

  private connection(address: string): Connection {
    const existing = this.connections.get(address);
    if (existing !== undefined) return existing;
    const client = this.routing.clientFor(address);
    const connection: Connection = { client, channels: new Set(), subscribed: new Set(), readyOnce: false };
    client.on('error', () => this.routing.refreshTopology?.());
    client.on('ready', () => {
      // After a reconnect node-redis has already re-sent the subscriptions it holds: messages sent while
      // it was away are lost, so listeners look at Redis again.
      if (connection.readyOnce && connection.subscribed.size > 0) this.options.onResubscribed();
      connection.readyOnce = true;
      void this.reconcile();
    });
    client.connect().catch(() => {}); // closed before it connected; errors are reported above
    this.connections.set(address, connection);
    return connection;
  }

  /** Subscribes the connection's channels it does not listen on yet; answers how many it did. */
  private async subscribeAll(connection: Connection): Promise<number> {
    const missing = [...connection.channels].filter((channel) => !connection.subscribed.has(channel));
    // One SSUBSCRIBE per channel: the channels of one node may hash to different slots (CROSSSLOT).
    const outcomes = await Promise.allSettled(
      this.routing.sharded
        ? missing.map((channel) => connection.client.sSubscribe(channel, this.listener))
        : missing.length > 0
          ? [connection.client.subscribe(missing, this.listener)]
          : [],
    );
    let added = 0;
    outcomes.forEach((outcome, i) => {
      if (outcome.status !== 'fulfilled') return; // dropped again, or the slot moved: the next round tries
      const done = this.routing.sharded ? [missing[i]!] : missing;
      for (const channel of done) connection.subscribed.add(channel);
      added += done.length;
    });
    return added;
  }

  private unsubscribe(client: RedisClientType, channel: string): void {
    if (!client.isReady) return;
    const done = this.routing.sharded ? client.sUnsubscribe(channel) : client.unsubscribe(channel);
    done.catch(() => {});
  }
}

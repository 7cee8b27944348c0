import type { RedisCommands } from './commands.js';
import type { RedisScript } from './scripts.js';
import type { RedisSubscription, SubscriptionOptions } from './subscriber.js';
import type { RedisTopology } from './topology.js';

/** One primary node, for what runs per node rather than per key (SCAN, CONFIG GET, INFO). */
export interface RedisNode {
  /** `host:port` */
  address: string;
  send(args: string[]): Promise<unknown>;
}

export interface ReadConnection {
  commands: RedisCommands;
  /** A replica: a notification can arrive before it has the data, so a wait checks it again. */
  replica: boolean;
}

/**
 * The one seam between the service and Redis, whatever the topology (one node, Sentinel, Cluster).
 * Leases, applies, generations, parked events, status, queries and the CLI all go through it.
 */
export interface Redis {
  readonly topology: RedisTopology['kind'];
  /** Commands on the primary that holds the key: projector, leases, generations, admin. */
  readonly primary: RedisCommands;
  /**
   * The connection a query reads `key`'s slot from: a replica with REDIS_READ_FROM=replica where one is up,
   * else the primary. A request sends every read of one projection through one such connection, so the
   * reads after a consistency check see at least what the check saw.
   */
  readConnection(key: string): ReadConnection;
  /** Runs a script on the primary that holds its first key (every key of a script shares one slot). */
  runScript(script: RedisScript, keys: string[], args: string[]): Promise<unknown>;
  /** What a script calls to notify: SPUBLISH on a Cluster (the message stays in its shard), else PUBLISH. */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH';
  /** Listens on channels, following failovers; see ChannelSubscriber. */
  subscribe(options: SubscriptionOptions): RedisSubscription;
  /** Every primary node now (one, except on a Cluster). */
  primaries(): Promise<RedisNode[]>;
  /** False while no command can be sent (not connected yet, or reconnecting to a single node). */
  readonly isReady: boolean;
  /**
   * Connects; resolves true once connected, false after `waitMs` — it keeps trying in the background,
   * so a service starts with Redis down (commands work without it) and serves queries once it answers.
   */
  connect(waitMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

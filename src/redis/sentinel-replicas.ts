import { createClient, type RedisClientType } from 'redis';
import type { RedisAuth, RedisEndpoint } from './topology.js';

/** How often the sentinels are asked which replicas are healthy. */
const DISCOVER_EVERY_MS = 2000;

type ClientFor = (address: string) => RedisClientType;

/** A replica as SENTINEL REPLICAS describes it (RESP2: a flat list of field/value pairs). */
const healthyAddress = (fields: string[]): string | undefined => {
  const info = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) info.set(fields[i]!, fields[i + 1]!);
  const flags = (info.get('flags') ?? '').split(',');
  if (flags.some((flag) => flag === 's_down' || flag === 'o_down' || flag === 'disconnected'))
    return undefined;
  if (info.get('master-link-status') !== 'ok') return undefined;
  return `${info.get('ip')}:${info.get('port')}`;
};

/**
 * The replicas of a Sentinel-watched primary that are in sync now, each with a connection of our own, so a
 * query can send its consistency check and its reads to one replica (node-redis's Sentinel client spreads
 * each command over the replicas, which would let a check and its read land on different ones).
 */
export class SentinelReplicas {
  private readonly clients = new Map<string, RedisClientType>();
  private sentinel: RedisClientType | undefined;
  private sentinelIndex = 0;
  private next = 0;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly sentinels: RedisEndpoint[],
    private readonly masterName: string,
    private readonly auth: RedisAuth,
    private readonly clientFor: ClientFor,
  ) {
    this.timer = setInterval(() => void this.discover(), DISCOVER_EVERY_MS);
    this.timer.unref();
    void this.discover();
  }

  /** A connected, in-sync replica (round robin), or undefined when none is. */
  pick(): RedisClientType | undefined {
    const ready = [...this.clients.values()].filter((client) => client.isReady);
    if (ready.length === 0) return undefined;
    this.next = (this.next + 1) % ready.length;
    return ready[this.next];
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const client of [...this.clients.values(), this.sentinel]) if (client?.isOpen) client.destroy();
    this.clients.clear();
  }

  private async discover(): Promise<void> {
    if (this.closed) return;
    let reply: unknown;
    try {
      reply = await (await this.sentinelClient()).sendCommand(['SENTINEL', 'REPLICAS', this.masterName]);
    } catch {
      this.sentinel?.destroy(); // ask the next sentinel next time
      this.sentinel = undefined;
      this.sentinelIndex = (this.sentinelIndex + 1) % this.sentinels.length;
      return;
    }
    const healthy = new Set(
      (reply as string[][]).map(healthyAddress).filter((address) => address !== undefined),
    );
    for (const [address, client] of this.clients) {
      if (healthy.has(address)) continue;
      this.clients.delete(address);
      if (client.isOpen) client.destroy();
    }
    for (const address of healthy) {
      if (this.clients.has(address) || this.closed) continue;
      const client = this.clientFor(address);
      client.on('error', () => {}); // a replica that stops answering leaves the list at the next discovery
      client.connect().catch(() => {});
      this.clients.set(address, client);
    }
  }

  private async sentinelClient(): Promise<RedisClientType> {
    if (this.sentinel?.isReady) return this.sentinel;
    const endpoint = this.sentinels[this.sentinelIndex]!;
    const client = createClient({
      ...(this.auth.username ? { username: this.auth.username } : {}),
      ...(this.auth.password ? { password: this.auth.password } : {}),
      socket: {
        ...endpoint,
        connectTimeout: 1000,
        reconnectStrategy: false,
        ...(this.auth.tls ? { tls: true as const } : {}),
      },
      commandOptions: { timeout: 1000 },
    }) as RedisClientType;
    client.on('error', () => {});
    this.sentinel = client;
    await client.connect();
    return client;
  }
}

import { readCheckpoint } from './apply-batch';
import { readActiveGeneration } from './generations';
import type { ReadModelKeys } from './keys';
import type { NotificationHub } from './notification-hub';
import type { Notification } from './notifications';
import type { RedisClient } from './redis';

export type Consistency = 'fresh' | 'stale';

/** How long a cached active generation is trusted without a notification (a missed flip heals by then). */
const GENERATION_CACHE_MS = 1000;

/**
 * The query side's view of the read model: which generation of each projection is active, and
 * read-your-writes waits woken by the projectors' notifications (no polling).
 */
export class ReadModelAccess {
  private readonly generations = new Map<string, { generation: number; at: number }>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: ReadModelKeys,
    private readonly hub: NotificationHub,
  ) {
    hub.listen((notification) => {
      if (notification.kind === 'flipped') {
        this.generations.set(notification.projection, {
          generation: notification.generation,
          at: Date.now(),
        });
      }
    });
  }

  /** Called when notifications may have been missed. */
  forgetGenerations(): void {
    this.generations.clear();
  }

  async activeGeneration(projection: string): Promise<number> {
    const cached = this.generations.get(projection);
    if (cached && Date.now() - cached.at < GENERATION_CACHE_MS) return cached.generation;
    const generation = await readActiveGeneration(this.redis, this.keys, projection);
    this.generations.set(projection, { generation, at: Date.now() });
    return generation;
  }

  /** Resolves relative keys of a projection against its active generation. */
  async keyspace(projection: string): Promise<(relativeKey: string) => string> {
    return this.keys.generation(projection, await this.activeGeneration(projection)).key;
  }

  /** Waits until every listed projection has processed `position`, or the timeout. */
  waitForPosition(projections: string[], position: bigint, timeoutMs: number): Promise<Consistency> {
    const behind = new Set(projections);
    return this.waitUntil(
      timeoutMs,
      (notification, isActive) => {
        if (notification.kind !== 'applied' || !isActive) return behind.size === 0;
        if (BigInt(notification.position) >= position) behind.delete(notification.projection);
        return behind.size === 0;
      },
      async () => {
        for (const projection of [...behind]) {
          const generation = await this.activeGeneration(projection);
          const stored = await readCheckpoint(this.redis, this.keys, projection, generation);
          if (stored.position >= position) behind.delete(projection);
        }
        return behind.size === 0;
      },
      projections,
    );
  }

  /** Waits until a projection has applied `stream` up to `revision`, or the timeout. */
  waitForStreamVersion(
    projection: string,
    stream: string,
    revision: bigint,
    timeoutMs: number,
  ): Promise<Consistency> {
    const check = async () => {
      const generation = await this.activeGeneration(projection);
      const stored = await this.redis.hGet(
        this.keys.generation(projection, generation).streamVersions,
        stream,
      );
      return stored !== null && BigInt(stored) >= revision;
    };
    return this.waitUntil(
      timeoutMs,
      (notification, isActive) => {
        if (notification.kind !== 'applied' || !isActive) return false;
        const listed = notification.streams?.[stream];
        return listed !== undefined && BigInt(listed) >= revision;
      },
      check,
      [projection],
      (notification) => notification.kind === 'flipped' || notification.streams === undefined,
    );
  }

  /**
   * Listens before it checks, so a notification between the check and the listen cannot be missed.
   * `recheckOn` names notifications that say too little and need a fresh look at Redis.
   */
  private waitUntil(
    timeoutMs: number,
    satisfiedBy: (notification: Notification, isActive: boolean) => boolean,
    check: () => Promise<boolean>,
    projections: string[],
    recheckOn: (notification: Notification) => boolean = (notification) => notification.kind === 'flipped',
  ): Promise<Consistency> {
    return new Promise<Consistency>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: Consistency) => {
        if (settled) return;
        settled = true;
        stopListening();
        clearTimeout(timer);
        resolve(outcome);
      };
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        stopListening();
        clearTimeout(timer);
        reject(error);
      };
      const recheck = (onError: (error: unknown) => void = fail) =>
        check().then((ok) => ok && finish('fresh'), onError);
      const stopNotifications = this.hub.listen((notification) => {
        if (!projections.includes(notification.projection)) return;
        if (recheckOn(notification)) return void recheck();
        const active = this.generations.get(notification.projection)?.generation;
        if (satisfiedBy(notification, active === undefined || active === notification.generation))
          finish('fresh');
      });
      // Notifications published while the subscriber was reconnecting are lost: look at Redis again
      // (a failed look here is no answer yet: Redis may be flapping, and the timeout still bounds the wait).
      const stopReconnects = this.hub.onReconnect(() => void recheck(() => {}));
      const stopListening = () => {
        stopNotifications();
        stopReconnects();
      };
      const timer = setTimeout(() => finish('stale'), timeoutMs);
      void recheck();
    });
  }
}

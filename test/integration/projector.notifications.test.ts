import { createClient, type RedisClientType } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NotificationHub, ReadModelAccess } from '../../src/readmodel';
import type { Notification } from '../../src/readmodel/notifications';
import type { Redis } from '../../src/redis';
import { ChannelSubscriber } from '../../src/redis/subscriber';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis';
import {
  eventually,
  openProjectorBench,
  type ProjectorBench,
  saleNo,
  sold,
  tillRevenue,
  truthOf,
} from '../support/projector-harness';

const NAME = 'till-revenue';

/** Commands the private Redis server has processed so far (INFO itself counts as one). */
const commandsProcessed = async (bench: ProjectorBench): Promise<number> =>
  Number(/total_commands_processed:(\d+)/.exec(await bench.redis.info('stats'))?.[1]);

const settledWithin = async <T>(promise: Promise<T>, ms: number): Promise<boolean> =>
  Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('read-your-writes notifications (a private redis-server, restarted by the tests)', () => {
  let redisServer: PrivateRedis;
  let bench: ProjectorBench;
  let hub: NotificationHub;
  let readModel: ReadModelAccess;
  const applied = (position: string, streams?: Record<string, string>): Notification => ({
    kind: 'applied',
    projection: NAME,
    generation: 1,
    position,
    ...(streams ? { streams } : {}),
  });
  const publish = (notification: Notification) =>
    bench.redis.publish(bench.keys.notifications(NAME), JSON.stringify(notification));

  beforeAll(async () => {
    redisServer = await startPrivateRedis({ appendOnly: true });
  });
  afterAll(async () => redisServer.dispose());
  beforeEach(async () => {
    await redisServer.start(); // a test may have left it stopped
    bench = await openProjectorBench('notify', { redisUrl: redisServer.url });
    hub = new NotificationHub(bench.seam, [bench.keys.notifications(NAME)]);
    await hub.start();
    readModel = new ReadModelAccess(bench.seam, bench.keys, hub);
  });
  afterEach(async () => {
    await hub.close();
    await bench.dispose();
  });

  it('given a waiter, when the checkpoint moves without a notification, then it is not woken and Redis sees no polling; when the notification comes, then it is fresh', async () => {
    const waiting = readModel.waitForPosition([NAME], 10n, 8000);
    await new Promise((r) => setTimeout(r, 100)); // its first look at Redis is done
    await bench.redis.hSet(bench.keys.generation(NAME, 1).checkpoint, 'position', '10');
    const before = await commandsProcessed(bench);

    expect(await settledWithin(waiting, 1500)).toBe(false);
    expect((await commandsProcessed(bench)) - before).toBe(1); // only the INFO of this line

    await publish(applied('10'));
    expect(await settledWithin(waiting, 1000)).toBe(true);
    expect(await waiting).toBe('fresh');
  });

  it('given a stream-version waiter, when a notification lists the stream at that revision, then it is fresh without reading Redis again', async () => {
    const waiting = readModel.waitForStreamVersion(NAME, 'till-1', 2n, 8000);
    await new Promise((r) => setTimeout(r, 100)); // its first look at Redis is done
    const before = await commandsProcessed(bench);
    await publish(applied('5', { 'till-1': '1' }));
    expect(await settledWithin(waiting, 300)).toBe(false);

    await publish(applied('6', { 'till-1': '2' }));

    expect(await waiting).toBe('fresh');
    expect((await commandsProcessed(bench)) - before).toBe(3); // the first INFO and the two PUBLISHes
  });

  it('given a new process (nothing cached) and a rebuild in generation 2 past the position, when the active generation 1 is behind it, then the wait is not fresh', async () => {
    await bench.redis.set(bench.keys.active(NAME), '1');
    await bench.redis.hSet(bench.keys.generation(NAME, 1).checkpoint, 'position', '5');
    const fresh = new ReadModelAccess(bench.seam, bench.keys, hub); // a new process: its cache is empty
    const waiting = fresh.waitForPosition([NAME], 50n, 600);
    await new Promise((r) => setTimeout(r, 100));

    await publish({ ...applied('100'), generation: 2 }); // the rebuild's batch, not the active generation's

    expect(await waiting).toBe('stale');
  });

  it('given a waiter that is never satisfied, when the timeout passes, then it is stale and stops listening', async () => {
    const outcome = await readModel.waitForPosition([NAME], 99n, 300);

    expect(outcome).toBe('stale');
    expect(hub.waiting).toBe(1); // ReadModelAccess's own listener for generation flips
  });

  it('given a subscribed hub, when Redis restarts, then the subscriber reconnects and receives what is published after', async () => {
    const received: Notification[] = [];
    hub.listen((n) => void received.push(n));
    await redisServer.stop();
    await redisServer.start();

    await eventually(
      async () => {
        if (bench.redis.isReady) await publish(applied('42'));
        return received.length;
      },
      (n) => n > 0,
      { timeoutMs: 10_000, everyMs: 100, what: 'a notification after the restart' },
    );
    expect(received[0]).toEqual(applied('42'));
  });

  it('given a waiter whose subscriber reconnects slower than the projector, when Redis restarts, then the missed notification is made up by a look at Redis (fresh)', async () => {
    // The hub's connection retries only every 1.5 s; the projector's retries sooner.
    const slowSeam: Redis = {
      ...bench.seam,
      subscribe: (options) =>
        new ChannelSubscriber(
          {
            sharded: false,
            addressOf: () => redisServer.url,
            clientFor: () =>
              createClient({ url: redisServer.url, socket: { reconnectStrategy: () => 1500 } }).on(
                'error',
                () => {},
              ) as RedisClientType,
          },
          options,
        ),
    };
    const slowHub = new NotificationHub(slowSeam, [bench.keys.notifications(NAME)]);
    await slowHub.start();
    const slowReadModel = new ReadModelAccess(bench.seam, bench.keys, slowHub);
    const token = await bench.takeLease(NAME);
    await bench.store.append('till-4', [sold(saleNo(4))], { expectedRevision: 'any' });
    const projector = bench.projector({ projection: tillRevenue(NAME), leaseToken: () => token }).start();
    await eventually(
      () => bench.checkpointOf(NAME),
      (c) => c === 1n,
      { what: 'the first sale applied' },
    );
    const next = (await bench.store.headPosition()) + 1n; // SQLite positions are dense
    const waiting = slowReadModel.waitForPosition([NAME], next, 15_000);
    try {
      await redisServer.stop();
      const { position } = await bench.store.append('till-5', [sold(saleNo(5))], { expectedRevision: 'any' });
      expect(position).toBe(next);
      await redisServer.start();
      await eventually(
        () => projector.stats.checkpoint,
        (c) => c === next,
        { what: 'the sale applied' },
      );
      expect(slowHub.subscribed).toBe(false); // so the notification of that batch was missed

      expect(await waiting).toBe('fresh');
      expect(await bench.countersOf(NAME)).toEqual(truthOf([saleNo(4), saleNo(5)]));
    } finally {
      await slowHub.close();
    }
  });

  it('given Redis is down, when the hub starts, then start gives up quickly and the hub subscribes once Redis is back', async () => {
    await hub.close();
    await redisServer.stop();
    const late = new NotificationHub(bench.seam, [bench.keys.notifications(NAME)]);
    const received: Notification[] = [];
    late.listen((n) => void received.push(n));
    try {
      const started = Date.now();
      await expect(late.start(500)).rejects.toThrow(/subscribing in the background/);
      expect(Date.now() - started).toBeLessThan(2000);

      await redisServer.start();
      await eventually(() => late.subscribed, Boolean, { timeoutMs: 10_000, what: 'the late subscription' });
      await eventually(() => bench.redis.isReady, Boolean, { timeoutMs: 10_000 });
      await publish(applied('7'));
      await eventually(
        () => received.length,
        (n) => n === 1,
        { what: 'the notification' },
      );
    } finally {
      await late.close();
    }
  });
});

import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationHub, ReadModelAccess, readModelKeys } from '../../src/readmodel';
import type { Notification } from '../../src/readmodel/notifications';
import type { Redis } from '../../src/redis';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis';
import { openTestSeam, type PlainRedis, uniqueRedisPrefix } from '../support/redis';

const NAME = 'order-view';

/**
 * The primary publishes; queries read "the replica", a second redis-server that the test updates by hand, so
 * the replica's lag is exactly what the test says: a notification arrives, and the data lands later.
 */
describe('read-your-writes on a replica: the wait checks the node that serves the read (two real redis-servers)', () => {
  let primaryServer: PrivateRedis;
  let replicaServer: PrivateRedis;
  let primary: Redis;
  let replica: PlainRedis;
  let publisher: PlainRedis;
  let hub: NotificationHub;
  let readModel: ReadModelAccess;
  const keys = readModelKeys(uniqueRedisPrefix('replica-reads'));
  const streams = keys.generation(NAME, 1).streamVersions;
  /** What a projector publishes after its batch was applied on the primary. */
  const publish = (notification: Notification) =>
    publisher.publish(keys.notifications(NAME), JSON.stringify(notification));
  const checkCalls = async () =>
    Number(/^cmdstat_hmget:calls=(\d+)/m.exec(await replica.info('commandstats'))?.[1] ?? 0);

  beforeAll(async () => {
    [primaryServer, replicaServer] = await Promise.all([startPrivateRedis(), startPrivateRedis()]);
    const seam = await openTestSeam(primaryServer.url);
    replica = createClient({ url: replicaServer.url });
    publisher = createClient({ url: primaryServer.url });
    await Promise.all([replica.connect(), publisher.connect()]);
    // Everything as on one node, except that queries read the lagging "replica".
    primary = { ...seam, readConnection: () => ({ commands: replica, replica: true }) };
    hub = new NotificationHub(primary, [keys.notifications(NAME)]);
    await hub.start();
    readModel = new ReadModelAccess(primary, keys, hub);
  });
  afterAll(async () => {
    await hub.close();
    await primary.close();
    replica.destroy();
    publisher.destroy();
    await Promise.all([primaryServer.dispose(), replicaServer.dispose()]);
  });

  it('given a notification that the version is applied, when the replica gets it 50 ms later, then the wait answers fresh only then, after a few checks', async () => {
    const started = Date.now();
    const waiting = readModel.waitForStreamVersion(NAME, 'order-1', 1n, 5000);
    await new Promise((r) => setTimeout(r, 50)); // its first look at the replica is done
    const checksBefore = await checkCalls();
    await publish({
      kind: 'applied',
      projection: NAME,
      generation: 1,
      position: '7',
      streams: { 'order-1': '1' },
    });
    let landedAt = 0;
    setTimeout(() => {
      landedAt = Date.now();
      void replica.hSet(streams, 'order-1', '1');
    }, 50);

    expect(await waiting).toBe('fresh');
    expect(landedAt).toBeGreaterThan(started); // fresh only after the replica had the version
    const checks = (await checkCalls()) - checksBefore;
    expect(checks).toBeGreaterThanOrEqual(2); // looked again after the notification …
    expect(checks).toBeLessThan(20); // … with backoff, not a busy loop
  });

  it('given a notification whose data never reaches the replica, when the timeout passes, then the wait is stale, never fresh from the notification alone', async () => {
    const waiting = readModel.waitForStreamVersion(NAME, 'order-2', 3n, 600);
    await new Promise((r) => setTimeout(r, 50));
    await publish({
      kind: 'applied',
      projection: NAME,
      generation: 1,
      position: '9',
      streams: { 'order-2': '3' },
    });

    expect(await waiting).toBe('stale');
  });

  it('given a wait on the primary (no replica), when the notification lists the version, then it is fresh without another look', async () => {
    const onPrimary = new ReadModelAccess(
      { ...primary, readConnection: () => ({ commands: primary.primary, replica: false }) },
      keys,
      hub,
    );
    const waiting = onPrimary.waitForStreamVersion(NAME, 'order-3', 0n, 5000);
    await new Promise((r) => setTimeout(r, 50));
    await publish({
      kind: 'applied',
      projection: NAME,
      generation: 1,
      position: '11',
      streams: { 'order-3': '0' },
    });

    expect(await waiting).toBe('fresh'); // the primary applied the batch before it published
  });
});

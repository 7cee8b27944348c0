import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationHub, ReadModelAccess, readModelKeys } from '../../src/readmodel';
import type { Redis } from '../../src/redis';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis';
import { openTestSeam, type PlainRedis, uniqueRedisPrefix } from '../support/redis';

const NAME = 'order-view';

/**
 * A read of a view that is already fresh sends its check and its read together: the read goes out after the
 * check on the same connection, so Redis runs it after the check (MONITOR shows the order), and no second
 * round trip waits for the check's answer.
 */
describe('read-your-writes when the view is already fresh: check and read in one round trip (a real redis-server)', () => {
  let server: PrivateRedis;
  let seam: Redis;
  let plain: PlainRedis;
  let monitor: PlainRedis;
  let hub: NotificationHub;
  let readModel: ReadModelAccess;
  const keys = readModelKeys(uniqueRedisPrefix('one-round-trip'));
  const generation1 = keys.generation(NAME, 1);
  const seen: string[] = [];

  beforeAll(async () => {
    server = await startPrivateRedis();
    seam = await openTestSeam(server.url);
    plain = createClient({ url: server.url });
    monitor = createClient({ url: server.url });
    await Promise.all([plain.connect(), monitor.connect()]);
    await monitor.monitor((line) => seen.push(line));
    hub = new NotificationHub(seam, [keys.notifications(NAME)]);
    await hub.start();
    readModel = new ReadModelAccess(seam, keys, hub);
    await plain.hSet(generation1.streamVersions, 'order-1', '2');
    await plain.hSet(generation1.key('order:order-1'), { version: '2' });
  });
  afterAll(async () => {
    await hub.close();
    await seam.close();
    plain.destroy();
    monitor.destroy();
    await server.dispose();
  });

  /** Each check reads the checkpoint with one HMGET. */
  const checkCalls = async () =>
    Number(/^cmdstat_hmget:calls=(\d+)/m.exec(await plain.info('commandstats'))?.[1] ?? 0);
  const requirement = (revision: bigint) => new Map([[NAME, { stream: { name: 'order-1', revision } }]]);

  it('given a generation not known yet, when checked at once, then there is nothing to send before it is read (undefined)', async () => {
    readModel.forgetGenerations();
    expect(readModel.request().checkNow(requirement(2n))).toBeUndefined();
  });

  it('given a fresh view, when checked and read at once, then true, and Redis ran the read after the check on the same connection', async () => {
    readModel.remember(NAME, 1);
    const read = readModel.request();
    seen.length = 0;
    const checked = read.checkNow(requirement(2n));
    expect(checked).toBeDefined();
    const target = await read.projection(NAME);
    const view = await target.redis.hGetAll(target.keyOf('order:order-1'));
    expect(await checked).toBe(true);
    expect(view.version).toBe('2');

    await plain.ping(); // MONITOR lines of the commands above have arrived
    const lines = seen.filter((line) => /"(hget|hgetall)"/i.test(line));
    expect(lines.map((line) => /"(hget|hgetall)"/i.exec(line)?.[1]?.toLowerCase())).toEqual([
      'hget', // the stream version: the check's last command
      'hgetall',
    ]);
    const clientOf = (line: string) => /\[\d+ ([^\]]+)\]/.exec(line)?.[1];
    expect(clientOf(lines[0]!)).toBe(clientOf(lines[1]!));
  });

  it('given a view behind the version asked for, when checked at once, then false (the caller waits, then reads again)', async () => {
    readModel.remember(NAME, 1);
    expect(await readModel.request().checkNow(requirement(3n))).toBe(false);
  });

  it('given a check that found the view behind, when the notification arrives before the wait begins, then the wait is fresh from it without another look at Redis', async () => {
    readModel.remember(NAME, 1);
    const read = readModel.request();
    const listenersBefore = hub.waiting;
    expect(await read.checkNow(requirement(5n))).toBe(false);
    const checksBefore = await checkCalls();
    const applied = {
      kind: 'applied',
      projection: NAME,
      generation: 1,
      position: '9',
      streams: { 'order-1': '5' },
    };
    await plain.publish(keys.notifications(NAME), JSON.stringify(applied));
    await new Promise((r) => setTimeout(r, 100)); // heard while nobody waits yet

    expect(await read.waitFor(requirement(5n), 2000)).toBe('fresh');
    expect((await checkCalls()) - checksBefore).toBe(0);
    read.close();
    expect(hub.waiting).toBe(listenersBefore); // nothing left listening
  });

  it('given a check that found the view behind, when the request ends without waiting (closed), then nothing is left listening', async () => {
    readModel.remember(NAME, 1);
    const listenersBefore = hub.waiting;
    const read = readModel.request();
    expect(await read.checkNow(requirement(6n))).toBe(false);
    expect(hub.waiting).toBe(listenersBefore + 1);
    read.close();
    expect(hub.waiting).toBe(listenersBefore);
  });

  it('given a generation flipped since it was cached, when checked at once, then false, and the request reads the new generation from then on', async () => {
    readModel.remember(NAME, 1);
    await plain.set(keys.active(NAME), '2');
    try {
      const read = readModel.request();
      expect(await read.checkNow(requirement(2n))).toBe(false);
      const target = await read.projection(NAME);
      expect(target.keyOf('order:order-1')).toBe(keys.generation(NAME, 2).key('order:order-1'));
    } finally {
      await plain.del(keys.active(NAME));
      readModel.forgetGenerations();
    }
  });

  it('given a generation marked untrusted, when checked at once, then false even though the stream version is there', async () => {
    readModel.remember(NAME, 1);
    await plain.hSet(generation1.checkpoint, 'fault', 'diverged');
    try {
      expect(await readModel.request().checkNow(requirement(2n))).toBe(false);
    } finally {
      await plain.hDel(generation1.checkpoint, 'fault');
    }
  });
});

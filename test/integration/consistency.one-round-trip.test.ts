import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATION_KEYS, NotificationHub, ReadModelAccess, readModelKeys } from '../../src/readmodel';
import { encodeNotification } from '../../src/readmodel/notifications';
import { markFaultScript } from '../../src/readmodel/scripts';
import type { Redis } from '../../src/redis';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis';
import { eventually } from '../support/projector-harness';
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

  /** Every check sends one HMGET (checkNow's alone, or inside waitFor's MULTI). */
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
    const lines = seen.filter((line) => /"(hmget|hgetall|multi)"/i.test(line));
    expect(lines.map((line) => /"(hmget|hgetall|multi)"/i.exec(line)?.[1]?.toLowerCase())).toEqual([
      'hmget', // the check: the stream's version and the generation's fault mark, one command
      'hgetall',
    ]);
    expect(lines[0]).toContain(`"${generation1.streamVersions}" "order-1" ""`);
    const clientOf = (line: string) => /\[\d+ ([^\]]+)\]/.exec(line)?.[1];
    expect(clientOf(lines[0]!)).toBe(clientOf(lines[1]!));
  });

  it('given a view behind the version asked for, when checked at once, then false (the caller waits, then reads again)', async () => {
    readModel.remember(NAME, 1);
    expect(await readModel.request().checkNow(requirement(3n))).toBe(false);
  });

  it('given a check that found the view behind, when the notification arrives before the wait begins, then the wait is fresh from it without another look at Redis, and nothing was left listening', async () => {
    readModel.remember(NAME, 1);
    const read = readModel.request();
    const listenersBefore = hub.waiting;
    expect(await read.checkNow(requirement(5n))).toBe(false);
    expect(hub.waiting).toBe(listenersBefore); // a check adds no listener: the hub keeps what arrives
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
    expect(hub.waiting).toBe(listenersBefore);
  });

  it('given a check that found the view behind, when more notifications arrived than the hub keeps, then the wait looks at Redis again', async () => {
    readModel.remember(NAME, 1);
    const read = readModel.request();
    expect(await read.checkNow(requirement(7n))).toBe(false);
    let heard = 0;
    const stopCounting = hub.listen(() => heard++);
    const other = {
      kind: 'applied',
      projection: NAME,
      generation: 1,
      position: '10',
      streams: { 'order-2': '1' },
    };
    const message = JSON.stringify(other);
    await Promise.all(Array.from({ length: 1100 }, () => plain.publish(keys.notifications(NAME), message)));
    await plain.hSet(generation1.streamVersions, 'order-1', '7'); // applied; its notification is among those lost
    await eventually(
      async () => heard,
      (n) => n >= 1100,
      { what: 'the hub heard every notification', timeoutMs: 5000 },
    );
    stopCounting();
    const checksBefore = await checkCalls();
    try {
      expect(await read.waitFor(requirement(7n), 2000)).toBe('fresh');
      expect((await checkCalls()) - checksBefore).toBe(1);
    } finally {
      await plain.hSet(generation1.streamVersions, 'order-1', '2');
    }
  });

  it('given a generation flipped since it was cached, when the old one already has the version, then fresh from the old one (its reads reflect it)', async () => {
    readModel.remember(NAME, 1);
    await plain.set(keys.active(NAME), '2');
    try {
      const read = readModel.request();
      expect(await read.checkNow(requirement(2n))).toBe(true);
      const target = await read.projection(NAME);
      expect(target.keyOf('order:order-1')).toBe(generation1.key('order:order-1'));
    } finally {
      await plain.del(keys.active(NAME));
      readModel.forgetGenerations();
    }
  });

  it('given a generation flipped since it was cached, when the old one is behind, then the wait finds the flip and the request reads the new generation from then on', async () => {
    readModel.remember(NAME, 1);
    await plain.set(keys.active(NAME), '2');
    const generation2 = keys.generation(NAME, 2);
    await plain.hSet(generation2.streamVersions, 'order-1', '4');
    try {
      const read = readModel.request();
      expect(await read.checkNow(requirement(4n))).toBe(false);
      expect(await read.waitFor(requirement(4n), 2000)).toBe('fresh');
      const target = await read.projection(NAME);
      expect(target.keyOf('order:order-1')).toBe(generation2.key('order:order-1'));
    } finally {
      await plain.del([keys.active(NAME), generation2.streamVersions]);
      readModel.forgetGenerations();
    }
  });

  /** What the projector does when it finds its generation cannot be trusted (runner-chores.ts). */
  const markUntrusted = async () => {
    await plain.set(keys.lease(NAME), 'token-1');
    return seam.runScript(
      markFaultScript,
      [keys.lease(NAME), generation1.checkpoint, generation1.streamVersions],
      [
        'token-1',
        'diverged',
        GENERATION_KEYS.streamVersionsFault,
        keys.notifications(NAME),
        encodeNotification({ kind: 'untrusted', projection: NAME, generation: 1 }),
        seam.publishCommand,
      ],
    );
  };
  const unmark = async () => {
    await plain.hDel(generation1.checkpoint, 'fault');
    await plain.hDel(generation1.streamVersions, GENERATION_KEYS.streamVersionsFault);
    await plain.del(keys.lease(NAME));
    readModel.forgetGenerations(); // what was heard of the mark is forgotten, as after a reconnect
  };

  it('given a generation marked untrusted (by the projector’s script), when checked at once, then false for a stream version and for a position, though both are there', async () => {
    readModel.remember(NAME, 1);
    await plain.hSet(generation1.checkpoint, 'position', '9');
    expect(await markUntrusted()).toBe(1);
    try {
      expect(await readModel.request().checkNow(requirement(2n))).toBe(false);
      expect(await readModel.request().checkNow(new Map([[NAME, { position: 9n }]]))).toBe(false);
    } finally {
      await unmark();
    }
    readModel.remember(NAME, 1);
    expect(await readModel.request().checkNow(requirement(2n))).toBe(true);
    expect(await readModel.request().checkNow(new Map([[NAME, { position: 9n }]]))).toBe(true);
  });

  describe('an answer that carries its own version (order-view’s `version`) speaks for itself', () => {
    it('given no check of the generation yet, then it may not: the first read sends the check', async () => {
      readModel.forgetGenerations();
      readModel.remember(NAME, 1);
      expect(readModel.request().answerSpeaksFor(NAME)).toBe(false);
    });

    it('given a check that found the generation without a mark, then for a second the answer speaks for itself, and nothing is sent for it', async () => {
      readModel.forgetGenerations();
      readModel.remember(NAME, 1);
      expect(await readModel.request().checkNow(requirement(2n))).toBe(true);
      const checksBefore = await checkCalls();
      const read = readModel.request();
      expect(read.answerSpeaksFor(NAME)).toBe(true);
      const target = await read.projection(NAME);
      expect(target.keyOf('order:order-1')).toBe(generation1.key('order:order-1'));
      expect((await checkCalls()) - checksBefore).toBe(0);
    });

    it('given a trusted generation, when the projector marks it untrusted, then its notification ends that at once, and checks say false', async () => {
      readModel.forgetGenerations();
      readModel.remember(NAME, 1);
      expect(await readModel.request().checkNow(requirement(2n))).toBe(true);
      expect(readModel.request().answerSpeaksFor(NAME)).toBe(true);
      expect(await markUntrusted()).toBe(1);
      try {
        await eventually(
          async () => readModel.request().answerSpeaksFor(NAME),
          (speaks) => !speaks,
          { what: 'the untrusted notification heard', timeoutMs: 2000 },
        );
        expect(await readModel.request().checkNow(requirement(2n))).toBe(false);
        expect(readModel.request().answerSpeaksFor(NAME)).toBe(false);
      } finally {
        await unmark();
      }
    });

    it('given an answer behind the version asked for, when its notification arrives before the wait, then the wait is fresh from what the hub kept, without a check', async () => {
      readModel.forgetGenerations();
      readModel.remember(NAME, 1);
      expect(await readModel.request().checkNow(requirement(2n))).toBe(true);
      const read = readModel.request();
      expect(read.answerSpeaksFor(NAME)).toBe(true);
      const applied = {
        kind: 'applied',
        projection: NAME,
        generation: 1,
        position: '12',
        streams: { 'order-1': '8' },
      };
      await plain.publish(keys.notifications(NAME), JSON.stringify(applied));
      await new Promise((r) => setTimeout(r, 50));
      const checksBefore = await checkCalls();
      expect(await read.waitFor(requirement(8n), 2000)).toBe('fresh');
      expect((await checkCalls()) - checksBefore).toBe(0);
    });
  });
});

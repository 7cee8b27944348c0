import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis';

const bounded = (ms: number) => ({ signal: AbortSignal.timeout(ms) });

describe('a Redis that stops answering without closing its connections', () => {
  let redis: PrivateRedis;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    t = await startTestApp({ CONSISTENCY_TIMEOUT_MS: '500' }, { redisUrl: redis.url });
  });
  afterAll(async () => {
    redis.resume();
    await t.stop();
    await redis.dispose();
  });

  it('given Redis frozen, then queries answer 503 instead of hanging, commands keep working, and everything is readable once it answers again', async () => {
    const before = (await (await t.http('/orders', json(validOrder()))).json()) as { orderId: string };
    expect((await t.http(`/orders/${before.orderId}?minVersion=0`)).status).toBe(200);

    redis.pause();
    try {
      const plain = await t.http(`/orders/${before.orderId}`, bounded(15_000));
      expect(plain.status).toBe(503);
      expect(plain.headers.get('retry-after')).toBe('1');
      const waiting = await t.http(`/orders/${before.orderId}?minVersion=5`, bounded(15_000));
      expect(waiting.status).toBe(503);
      expect((await t.http('/ready', bounded(15_000))).status).toBe(503);
      const during = await t.http('/orders', { ...json(validOrder()), ...bounded(15_000) });
      expect(during.status).toBe(201);
      const placed = (await during.json()) as { orderId: string; version: number };

      redis.resume();
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        status = (await t.http(`/orders/${placed.orderId}?minVersion=${placed.version}`, bounded(15_000)))
          .status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(200);
    } finally {
      redis.resume();
    }
  }, 60_000);
});

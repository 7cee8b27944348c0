import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelKeys } from '../../src/readmodel';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';
import { TEST_REDIS_URL } from '../support/redis';

describe('Redis goes back in time under a running projector (failover to a lagging replica, a restore)', () => {
  let t: TestApp;
  const redis = createClient({ url: TEST_REDIS_URL });
  beforeAll(async () => {
    t = await startTestApp();
    await redis.connect();
  });
  afterAll(async () => {
    redis.destroy();
    await t.stop();
  });

  it('given the view and its checkpoint rolled back but the lease kept, when new events come, then the projector resyncs and nothing is left out', async () => {
    const first = (await (await t.http('/orders', json(validOrder()))).json()) as {
      orderId: string;
      version: number;
    };
    expect((await t.http(`/orders/${first.orderId}?minVersion=0`)).status).toBe(200);

    // What a lagging replica would hold: the order's view and the checkpoint as they were before it.
    const generation = readModelKeys(t.prefix).generation('order-view', 1);
    await redis.del([
      generation.key(`order:${first.orderId}`),
      generation.checkpoint,
      generation.streamVersions,
    ]);

    const second = (await (await t.http('/orders', json(validOrder()))).json()) as {
      orderId: string;
      position: string;
    };
    const afterSecond = await t.http(`/orders/${second.orderId}?minPosition=${second.position}`);
    expect(afterSecond.status).toBe(200);
    const firstAgain = await t.http(`/orders/${first.orderId}?minVersion=0`);
    expect(firstAgain.status).toBe(200);
    expect(firstAgain.headers.get('x-consistency')).toBe('fresh');
  });
});

// The minimal code that does the work of GET /orders/{id}: the same HTTP stack (Hono on @hono/node-server),
// one node-redis HGETALL of the same hash the service reads, the stored JSON fields parsed, c.json with the
// ETag. No validation, no logging, no metrics, no generation lookup: the floor the service is measured against.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createClient } from 'redis';

const VIEW_KEY_PREFIX = process.env.VIEW_KEY_PREFIX ?? '';
const redis = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
await redis.connect();

const app = new Hono();
app.get('/orders/:id', async (c) => {
  const hash = await redis.hGetAll(VIEW_KEY_PREFIX + c.req.param('id'));
  if (hash.orderId === undefined) return c.json({ status: 404, title: 'Not Found' }, 404);
  const { items, shippingAddress, totalMinor, minorUnits, version, ...rest } = hash;
  c.header('ETag', `"${version}"`);
  return c.json({
    ...rest,
    items: JSON.parse(items ?? '[]'),
    shippingAddress: JSON.parse(shippingAddress ?? '{}'),
    totalAmount: Number(totalMinor) / 10 ** Number(minorUnits),
    version: Number(version),
  });
});

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'baseline listening', url: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => redis.close().then(() => process.exit(0))));

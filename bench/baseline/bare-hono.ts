// The baseline server: the same HTTP stack as the service (Hono on @hono/node-server) with handlers that
// parse the JSON body, validate nothing, store nothing and answer like the service does.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';

let position = 0;

const answer = (c: Context, orderId: string, status: 200 | 201) => {
  const version = status === 201 ? 0 : 1;
  position += 1;
  c.header('ETag', `"${version}"`);
  return c.json({ orderId, version, position: String(position) }, status);
};

/** Reads the body the way the service must (so a malformed one would fail) and throws it away. */
const parseBody = async (c: Context): Promise<unknown> => {
  const text = await c.req.text();
  return text === '' ? undefined : JSON.parse(text);
};

const app = new Hono();
app.post('/orders', async (c) => {
  await parseBody(c);
  const orderId = randomUUID();
  c.header('Location', `/orders/${orderId}`);
  return answer(c, orderId, 201);
});
for (const path of ['/orders/:id/items', '/orders/:id/confirm', '/orders/:id/ship']) {
  app.post(path, async (c) => {
    await parseBody(c);
    return answer(c, c.req.param('id')!, 200);
  });
}
app.delete('/orders/:id', async (c) => {
  await parseBody(c);
  return answer(c, c.req.param('id'), 200);
});

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'baseline listening', url: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

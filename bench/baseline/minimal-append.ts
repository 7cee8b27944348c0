// The minimal code that does the work of POST /orders: the same HTTP stack (Hono on @hono/node-server), the
// body parsed, and an append to SQLite with the service's settings (WAL, synchronous=FULL): read the stream's
// last revision, insert the event, with every append of one event-loop turn committed in one transaction.
// No validation, no logging, no metrics, no idempotency: the floor the service is measured against.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import Database from 'better-sqlite3';
import { Hono } from 'hono';

const db = new Database(process.env.SQLITE_FILE ?? ':memory:');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`CREATE TABLE IF NOT EXISTS events (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  stream TEXT NOT NULL,
  revision INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  metadata TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  UNIQUE (stream, revision)
)`);
const lastRevision = db
  .prepare<[string], number | null>('SELECT MAX(revision) FROM events WHERE stream = ?')
  .pluck();
const insert = db.prepare(
  'INSERT INTO events (id, stream, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
);

interface Pending {
  stream: string;
  data: string;
  resolve: (position: number) => void;
  reject: (error: unknown) => void;
}
let queue: Pending[] = [];
const commit = db.transaction((batch: Pending[]) =>
  batch.map(({ stream, data }) => {
    const revision = (lastRevision.get(stream) ?? -1) + 1;
    if (revision !== 0) throw new Error(`stream ${stream} exists`);
    return Number(
      insert.run(randomUUID(), stream, revision, 'OrderPlaced', data, '{}', Date.now()).lastInsertRowid,
    );
  }),
);
const flush = () => {
  const batch = queue;
  queue = [];
  try {
    const positions = commit(batch);
    batch.forEach((pending, i) => {
      pending.resolve(positions[i]!);
    });
  } catch (error) {
    for (const pending of batch) pending.reject(error);
  }
};
const append = (stream: string, data: string): Promise<number> =>
  new Promise((resolve, reject) => {
    if (queue.length === 0) setImmediate(flush);
    queue.push({ stream, data, resolve, reject });
  });

const app = new Hono();
app.post('/orders', async (c) => {
  const body = await c.req.json();
  const orderId = randomUUID();
  const position = await append(
    `order-${orderId}`,
    JSON.stringify({ orderId, ...body, placedAt: new Date().toISOString() }),
  );
  c.header('Location', `/orders/${orderId}`);
  c.header('ETag', '"0"');
  return c.json({ orderId, version: 0, position: String(position) }, 201);
});

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'baseline listening', url: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';

const ADMIN_TOKEN = 'admin-events-token-0123';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface StoredEvent {
  position: string;
  stream: string;
  revision: string;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}
interface Page {
  events: StoredEvent[];
  next?: string;
}

describe('the admin event routes behind the console (real HTTP, Redis and SQLite)', () => {
  let t: TestApp;
  const placed: Array<{ orderId: string; correlationId: string }> = [];
  beforeAll(async () => {
    t = await startTestApp({ ADMIN_TOKEN }, { adminFeedEveryMs: 100 });
    for (const n of [1, 2, 3]) {
      const correlationId = `console-test-${n}-${Date.now()}`;
      const res = await t.http('/orders', json(validOrder(), { 'x-correlation-id': correlationId }));
      expect(res.status).toBe(201);
      const { orderId } = (await res.json()) as { orderId: string };
      placed.push({ orderId, correlationId });
    }
    const { orderId, correlationId } = placed[2]!;
    const confirm = await t.http(`/orders/${orderId}/confirm`, {
      method: 'POST',
      headers: { 'x-correlation-id': correlationId },
    });
    expect(confirm.status).toBe(200);
  });
  afterAll(async () => t.stop());

  const get = async (path: string): Promise<Page> => {
    const res = await t.http(path, { headers: auth });
    expect(res.status).toBe(200);
    return (await res.json()) as Page;
  };

  it('given no bearer token, then every event route answers 401', async () => {
    for (const path of ['/admin/events', '/admin/streams/order-x/events', '/admin/feed']) {
      expect((await t.http(path)).status).toBe(401);
    }
  });

  it('given recent events, when listed in pages of 2, then newest first, and next leads through every one once', async () => {
    const first = await get('/admin/events?limit=2&stream=order-');
    expect(first.events.map((e) => e.type)).toEqual(['OrderConfirmed', 'OrderPlaced']);
    expect(first.events[0]!.stream).toBe(`order-${placed[2]!.orderId}`);
    const positions = first.events.map((e) => BigInt(e.position));
    expect(positions[0]! > positions[1]!).toBe(true);

    const all: StoredEvent[] = [...first.events];
    let next = first.next;
    for (let i = 0; next !== undefined && i < 10; i++) {
      const page = await get(`/admin/events?limit=2&stream=order-&before=${next}`);
      all.push(...page.events);
      next = page.next;
    }
    expect(all.map((e) => e.stream).filter((s) => s.startsWith('order-'))).toHaveLength(4);
    expect(new Set(all.map((e) => e.position)).size).toBe(all.length);
  });

  it('given a correlation id, when searched, then only that request’s events, with their metadata', async () => {
    const { orderId, correlationId } = placed[2]!;
    const page = await get(`/admin/events?correlationId=${encodeURIComponent(correlationId)}`);
    expect(page.events.map((e) => [e.type, e.stream])).toEqual([
      ['OrderConfirmed', `order-${orderId}`],
      ['OrderPlaced', `order-${orderId}`],
    ]);
    for (const event of page.events) {
      expect(event.metadata).toMatchObject({ correlationId });
      expect(event.metadata.schemaVersion).toBeDefined();
    }
  });

  it('given a stream, when its events are listed with limit 1, then newest first, and next pages back to revision 0', async () => {
    const stream = `order-${placed[2]!.orderId}`;
    const newest = await get(`/admin/streams/${stream}/events?limit=1`);
    expect(newest.events.map((e) => [e.revision, e.type])).toEqual([['1', 'OrderConfirmed']]);
    expect(newest.next).toBe('1');
    const older = await get(`/admin/streams/${stream}/events?limit=1&before=${newest.next}`);
    expect(older.events.map((e) => [e.revision, e.type])).toEqual([['0', 'OrderPlaced']]);
    expect(older.next).toBeUndefined();
    expect((await get('/admin/streams/order-none/events')).events).toEqual([]);
  });

  it('given a before past the newest event (even past what SQLite can hold), then the newest page, as without one', async () => {
    const stream = `order-${placed[2]!.orderId}`;
    const newest = await get('/admin/events?limit=2');
    for (const before of [
      '9223372036854775808',
      '18446744073709551615',
      String(BigInt(newest.events[0]!.position) + 50_000n),
    ]) {
      expect((await get(`/admin/events?limit=2&before=${before}`)).events).toEqual(newest.events);
      const page = await get(`/admin/streams/${stream}/events?limit=1&before=${before}`);
      expect(page.events.map((e) => [e.revision, e.type])).toEqual([['1', 'OrderConfirmed']]);
      expect(page.next).toBe('1');
    }
  });

  it('given bad paging parameters, then 400 problem+json naming them', async () => {
    for (const path of [
      '/admin/events?limit=0',
      '/admin/events?before=soon',
      '/admin/events?before=18446744073709551616',
      '/admin/streams/x/events?before=99999999999999999999',
      '/admin/streams/x/events?limit=201',
    ]) {
      const res = await t.http(path, { headers: auth });
      expect(`${path} ${res.status}`).toBe(`${path} 400`);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  it('given HEAD of the live feed, then the stream headers, no body, and no feed left running behind it', async () => {
    const store = t.app.store;
    const read = store.readAllBackwards.bind(store);
    let reads = 0;
    store.readAllBackwards = (opts) => {
      reads += 1;
      return read(opts);
    };
    try {
      for (let i = 0; i < 3; i++) {
        const head = await t.http('/admin/feed', { method: 'HEAD', headers: auth });
        expect(head.status).toBe(200);
        expect(head.headers.get('content-type')).toMatch(/^text\/event-stream/);
        expect(await head.text()).toBe('');
      }
      // The feed ticks every 100 ms here: a feed opened for a HEAD would have read several times by now.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(reads).toBe(0);
    } finally {
      store.readAllBackwards = read;
    }
  });

  it('given the live feed read with the bearer token, then it sends projection rows, then new events as they are appended', async () => {
    const abort = new AbortController();
    const res = await t.http('/admin/feed', { headers: auth, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (pattern: RegExp) => {
      const deadline = Date.now() + 5000;
      while (!pattern.test(text)) {
        if (Date.now() > deadline) throw new Error(`not seen: ${pattern} in ${text.slice(-500)}`);
        const { value, done } = await reader.read();
        if (done) throw new Error('the feed ended');
        text += value;
      }
    };
    try {
      await until(/event: projections\ndata: (\[.*\])\n/);
      const rows = JSON.parse(/event: projections\ndata: (\[.*\])\n/.exec(text)![1]!) as Array<{
        name: string;
      }>;
      expect(rows.map((r) => r.name).sort()).toEqual([
        'customer-orders',
        'daily-revenue',
        'order-view',
        'orders-index',
      ]);

      text = '';
      const res2 = await t.http('/orders', json(validOrder({ customerId: 'feed-customer' })));
      const { orderId } = (await res2.json()) as { orderId: string };
      await until(new RegExp(`event: events\\ndata: .*order-${orderId}`));
    } finally {
      abort.abort();
    }
  });
});

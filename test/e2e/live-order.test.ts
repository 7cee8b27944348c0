import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { placeOrder } from './commands.requests';

interface Message {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** A live query read over real HTTP: its messages as they arrive, parsed as server-sent events. */
const openLive = async (t: TestApp, path: string, headers: Record<string, string> = {}) => {
  const abort = new AbortController();
  const response = await t.http(path, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const messages: Message[] = [];
  let ended = false;
  const arrived: Array<() => void> = [];
  if (response.ok && response.body) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      let buffer = '';
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += value;
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const message: Message = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) message.comment = line.slice(1).trim();
              else {
                const at = line.indexOf(': ');
                const field = line.slice(0, at) as 'event' | 'id' | 'data';
                message[field] =
                  (message[field] === undefined ? '' : `${message[field]}\n`) + line.slice(at + 2);
              }
            }
            messages.push(message);
          }
          for (const wake of arrived.splice(0)) wake();
        }
      } catch {
        // aborted by the test
      } finally {
        ended = true;
        for (const wake of arrived.splice(0)) wake();
      }
    })();
  }
  /** Waits until `accept` holds for what arrived, or fails after `ms`. */
  const until = async (accept: (messages: Message[]) => boolean, ms = 5000, what = 'messages') => {
    const deadline = Date.now() + ms;
    while (!accept(messages)) {
      if (Date.now() > deadline) throw new Error(`${what} not seen in ${ms} ms: ${JSON.stringify(messages)}`);
      await new Promise<void>((resolve) => {
        arrived.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  const views = () => messages.filter((m) => m.event === 'view');
  return {
    response,
    messages,
    views,
    until,
    ended: () => ended,
    close: () => abort.abort(),
  };
};

const liveStreams = async (t: TestApp): Promise<number> => {
  const text = await (await t.http('/metrics')).text();
  return Number(/^sluice_live_streams (\d+)/m.exec(text)?.[1]);
};

/** The gauge once streams other tests closed are torn down (the server notices a closed client a moment later). */
const settledStreams = async (t: TestApp): Promise<number> => {
  let last = await liveStreams(t);
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 30));
    const now = await liveStreams(t);
    if (now === last && now === 0) return now;
    last = now;
  }
  return last;
};

const addItem = (t: TestApp, orderId: string, sku: string) =>
  t.http(`/orders/${orderId}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku, quantity: 1, unitPrice: 2 }),
  });

describe('live order view over server-sent events (real HTTP, Redis and SQLite)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LIVE_HEARTBEAT_MS: '200' });
  });
  afterAll(async () => t.stop());

  /** An order placed and projected, so a live read finds it. */
  const projectedOrder = async () => {
    const { orderId } = await placeOrder(t);
    expect((await t.http(`/orders/${orderId}?minVersion=0`)).headers.get('x-consistency')).toBe('fresh');
    return orderId;
  };

  it('given a placed order, when watched, then the current view comes first, then each newer version as commands change it, in order', async () => {
    const orderId = await projectedOrder();
    const live = await openLive(t, `/orders/${orderId}`);
    try {
      expect(live.response.status).toBe(200);
      expect(live.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      await live.until((m) => m.some((x) => x.event === 'view'));
      const [first] = live.views();
      expect(first!.id).toBe('0');
      expect(JSON.parse(first!.data!)).toMatchObject({ orderId, version: 0, status: 'pending' });

      // One command at a time: versions a projector applies in one batch arrive as the newest of them.
      expect((await addItem(t, orderId, 'LIVE-1')).status).toBe(200);
      await live.until((m) => m.filter((x) => x.event === 'view').length >= 2, 5000, 'version 1');
      expect((await t.http(`/orders/${orderId}/confirm`, { method: 'POST' })).status).toBe(200);
      await live.until((m) => m.filter((x) => x.event === 'view').length >= 3, 5000, 'version 2');

      const views = live.views();
      expect(views.map((v) => v.id)).toEqual(['0', '1', '2']);
      expect(JSON.parse(views[1]!.data!).items.map((i: { sku: string }) => i.sku)).toContain('LIVE-1');
      expect(JSON.parse(views[2]!.data!)).toMatchObject({ version: 2, status: 'confirmed' });
    } finally {
      live.close();
    }
  });

  it('given a client that reconnects with Last-Event-ID of the current version, then it gets no first message, only the next version', async () => {
    const orderId = await projectedOrder();
    const live = await openLive(t, `/orders/${orderId}`, { 'last-event-id': '0' });
    try {
      expect(live.response.status).toBe(200);
      await live.until((m) => m.some((x) => x.comment === 'keep-alive'), 3000, 'a heartbeat');
      expect(live.views()).toEqual([]);

      expect((await addItem(t, orderId, 'AFTER-RECONNECT')).status).toBe(200);
      await live.until((m) => m.some((x) => x.event === 'view'), 5000, 'version 1');
      expect(live.views().map((v) => v.id)).toEqual(['1']);
    } finally {
      live.close();
    }
  });

  it('given an idle stream, then a comment line arrives at least every LIVE_HEARTBEAT_MS', async () => {
    const orderId = await projectedOrder();
    const live = await openLive(t, `/orders/${orderId}`);
    try {
      await live.until(
        (m) => m.filter((x) => x.comment === 'keep-alive').length >= 3,
        3000,
        'three heartbeats',
      );
    } finally {
      live.close();
    }
  });

  it('given an unknown order or a bad Last-Event-ID, then 404 or 400 problem+json, and no stream stays open', async () => {
    const before = await settledStreams(t);
    const unknown = await t.http('/orders/00000000-0000-4000-8000-000000000000', {
      headers: { accept: 'text/event-stream' },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await unknown.json()) as { detail: string }).detail).toMatch(/does not exist/);

    const orderId = await projectedOrder();
    const bad = await t.http(`/orders/${orderId}`, {
      headers: { accept: 'text/event-stream', 'last-event-id': 'yesterday' },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/last-event-id/i);
    expect(await liveStreams(t)).toBe(before);
  });

  it('given open streams, when their clients go away, then they are torn down (the gauge goes back)', async () => {
    const orderId = await projectedOrder();
    const before = await settledStreams(t);
    const streams = await Promise.all([1, 2, 3].map(() => openLive(t, `/orders/${orderId}`)));
    for (const live of streams) await live.until((m) => m.some((x) => x.event === 'view'));
    expect(await liveStreams(t)).toBe(before + 3);

    for (const live of streams) live.close();
    const deadline = Date.now() + 5000;
    while ((await liveStreams(t)) !== before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(await liveStreams(t)).toBe(before);
  });

  it('given HEAD with Accept: text/event-stream, then the headers of the stream and no stream (none stays open), 404 for an unknown order', async () => {
    const orderId = await projectedOrder();
    const before = await settledStreams(t);
    for (let i = 0; i < 3; i++) {
      const head = await t.http(`/orders/${orderId}`, {
        method: 'HEAD',
        headers: { accept: 'text/event-stream' },
      });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(await head.text()).toBe('');
    }
    const unknown = await t.http('/orders/00000000-0000-4000-8000-000000000000', {
      method: 'HEAD',
      headers: { accept: 'text/event-stream' },
    });
    expect(unknown.status).toBe(404);
    expect(await liveStreams(t)).toBe(before);
  });

  it('given an Accept without text/event-stream (or refusing it with q=0), then the answer is the JSON view', async () => {
    const orderId = await projectedOrder();
    for (const accept of ['application/json', 'text/event-stream;q=0, application/json']) {
      const res = await t.http(`/orders/${orderId}`, { headers: { accept } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      await res.arrayBuffer();
    }
  });

  it('documents the live stream in the OpenAPI document', async () => {
    const doc = (await (await t.http('/openapi.json')).json()) as {
      paths: Record<string, { get?: { responses: Record<string, { content: Record<string, unknown> }> } }>;
    };
    expect(Object.keys(doc.paths['/orders/{id}']!.get!.responses['200']!.content)).toEqual([
      'application/json',
      'text/event-stream',
    ]);
  });
});

describe('live streams when the service shuts down', () => {
  it('given an open stream, when the app ends its live streams (as a shutdown does first), then the stream ends', async () => {
    const t = await startTestApp();
    try {
      const { orderId } = await placeOrder(t);
      await (await t.http(`/orders/${orderId}?minVersion=0`)).arrayBuffer();
      const live = await openLive(t, `/orders/${orderId}`);
      await live.until((m) => m.some((x) => x.event === 'view'));

      t.app.endLiveStreams();
      const deadline = Date.now() + 5000;
      while (!live.ended() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(live.ended()).toBe(true);
    } finally {
      await t.stop();
    }
  });
});

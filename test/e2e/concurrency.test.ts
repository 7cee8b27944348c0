import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';
import { type CommandAnswer, eventsOf, placeOrder, viewAt } from './commands.requests';

interface Sent {
  line: { sku: string; quantity: number; unitPrice: number };
  ifMatch?: string;
}

interface Outcome extends Sent {
  status: number;
  body: CommandAnswer & { type?: string };
}

const addItemsConcurrently = async (t: TestApp, orderId: string, sent: Sent[]): Promise<Outcome[]> =>
  Promise.all(
    sent.map(async (request) => {
      const headers: Record<string, string> =
        request.ifMatch === undefined ? {} : { 'if-match': request.ifMatch };
      const res = await t.http(`/orders/${orderId}/items`, json(request.line, headers));
      return { ...request, status: res.status, body: (await res.json()) as Outcome['body'] };
    }),
  );

describe('concurrent commands on one order over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.stop());

  it('given 40 adds without If-Match and 20 with the version read before, when they race, then no update is lost and every answer agrees with the stream', async () => {
    const placed = await placeOrder(t);
    const readVersion = `"${placed.version}"`;
    const sent: Sent[] = [
      ...Array.from({ length: 40 }, (_, i) => ({
        line: { sku: `FREE-${i}`, quantity: 1 + (i % 3), unitPrice: 1 + i },
      })),
      ...Array.from({ length: 20 }, (_, i) => ({
        line: { sku: `PINNED-${i}`, quantity: 1, unitPrice: 0.5 },
        ifMatch: readVersion,
      })),
    ];
    const outcomes = await addItemsConcurrently(t, placed.orderId, sent);

    // Each answer is a success, or the refusal its kind of request may get.
    for (const outcome of outcomes) {
      if (outcome.status === 200) continue;
      if (outcome.ifMatch === undefined) {
        expect(outcome.status, outcome.line.sku).toBe(409);
        expect(outcome.body.type).toMatch(/\/concurrency-conflict$/);
      } else {
        expect(outcome.status, outcome.line.sku).toBe(412);
        expect(outcome.body.type).toMatch(/\/precondition-failed$/);
      }
    }
    const successes = outcomes
      .filter((o) => o.status === 200)
      .sort((a, b) => a.body.version - b.body.version);
    // All pinned requests named the same version: at most one of them can have applied, right after the place.
    const pinnedSuccesses = successes.filter((o) => o.ifMatch !== undefined);
    expect(pinnedSuccesses.length).toBeLessThanOrEqual(1);
    if (pinnedSuccesses[0]) expect(pinnedSuccesses[0].body.version).toBe(placed.version + 1);

    // Every 200 is one event of the stream, and the stream holds nothing else.
    const added = (await eventsOf(t, placed.orderId)).slice(1);
    expect(added).toHaveLength(successes.length);
    successes.forEach((success, i) => {
      const event = added[i]!;
      expect(event.type).toBe('OrderItemAdded');
      expect(event.revision).toBe(BigInt(success.body.version));
      expect(event.position).toBe(BigInt(success.body.position));
      expect(event.data).toMatchObject({ sku: success.line.sku, quantity: success.line.quantity });
    });

    const lastVersion = successes.at(-1)?.body.version ?? placed.version;
    const view = await viewAt(t, placed.orderId, lastVersion);
    expect(view.items).toEqual([...validOrder().items, ...successes.map((s) => s.line)]);
  });

  it('given a pending order, when 10 confirms and 10 cancels race, then every 200 is one event, every refusal is an invalid transition, and the view ends as the stream does', async () => {
    const placed = await placeOrder(t);
    const kinds = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'confirm' : 'cancel'));
    const outcomes = await Promise.all(
      kinds.map(async (kind) => {
        const res =
          kind === 'confirm'
            ? await t.http(`/orders/${placed.orderId}/confirm`, { method: 'POST' })
            : await t.http(`/orders/${placed.orderId}`, { method: 'DELETE' });
        return { kind, status: res.status, body: (await res.json()) as CommandAnswer & { type?: string } };
      }),
    );
    for (const refused of outcomes.filter((o) => o.status !== 200)) {
      expect(refused.status).toBe(409);
      expect(refused.body.type).toMatch(/\/(invalid-transition|concurrency-conflict)$/);
    }
    const successes = outcomes
      .filter((o) => o.status === 200)
      .sort((a, b) => a.body.version - b.body.version);
    const events = (await eventsOf(t, placed.orderId)).slice(1);
    expect(events.map((e) => e.type)).toEqual(
      successes.map((s) => (s.kind === 'confirm' ? 'OrderConfirmed' : 'OrderCancelled')),
    );
    // The lifecycle allows at most one confirm and one cancel, the cancel last.
    expect(successes.filter((s) => s.kind === 'confirm').length).toBeLessThanOrEqual(1);
    expect(successes.filter((s) => s.kind === 'cancel')).toHaveLength(1);
    expect(successes.at(-1)!.kind).toBe('cancel');
    expect((await viewAt(t, placed.orderId, successes.at(-1)!.body.version)).status).toBe('cancelled');
  });
});

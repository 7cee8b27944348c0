import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orders } from '../../src/orders';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';
import { inventory, MAX_RESERVED, STOCK_LEVELS, type StockView, stockStream } from '../support/inventory';
import { adminRows, rowOf } from '../support/ops-probes';
import { eventually } from '../support/projector-harness';

const TOKEN = 'second-module-admin-token';

/**
 * The module seam, proven by a domain that is not in src/: the inventory module of test/support/inventory
 * is mounted beside orders, and its command, projection, read-your-writes, rebuild and admin status work
 * through the same generic routes and machinery, with nothing of it in src/.
 */
describe('a second domain module (inventory, from test/) mounted beside orders', () => {
  let t: TestApp;
  const reserve = (sku: string, quantity: number, headers: Record<string, string> = {}) =>
    t.http(`/stock/${sku}/reservations`, json({ quantity }, headers));
  const stockOf = async (sku: string, query = '') => {
    const res = await t.http(`/stock/${sku}${query}`);
    return { res, view: res.status === 200 ? ((await res.json()) as StockView) : undefined };
  };

  beforeAll(async () => {
    t = await startTestApp({ ADMIN_TOKEN: TOKEN }, { modules: [orders, inventory] });
  });
  afterAll(async () => t.stop());

  it('given a reservation, when it is read with minVersion, then the answer is fresh and counts it', async () => {
    const first = await reserve('widget-1', 3);
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"0"');
    const written = (await first.json()) as { sku: string; version: number; position: string };
    expect(written).toMatchObject({ sku: 'widget-1', version: 0 });

    const second = (await (await reserve('widget-1', 4)).json()) as { version: number; position: string };
    expect(second.version).toBe(1);

    const { res, view } = await stockOf('widget-1', `?minVersion=${second.version}`);
    expect(res.headers.get('x-consistency')).toBe('fresh');
    expect(res.headers.get('etag')).toBe('"1"');
    expect(view).toEqual({ sku: 'widget-1', reserved: 7, version: 1 });

    const byPosition = await stockOf('widget-1', `?minPosition=${second.position}`);
    expect(byPosition.res.headers.get('x-consistency')).toBe('fresh');
    expect(byPosition.view?.reserved).toBe(7);
  });

  it('given the generic command route, then Idempotency-Key, If-Match and the domain rule work for it as for orders', async () => {
    const once = await reserve('widget-2', 5, { 'idempotency-key': 'reserve-widget-2' });
    const again = await reserve('widget-2', 5, { 'idempotency-key': 'reserve-widget-2' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await once.json());

    const stale = await reserve('widget-2', 1, { 'if-match': '"7"' });
    expect(stale.status).toBe(412);

    const tooMany = await reserve('widget-2', MAX_RESERVED);
    expect(tooMany.status).toBe(409);
    expect(((await tooMany.json()) as { type: string }).type).toMatch(/\/limit-exceeded$/);

    const bad = await reserve('widget-2', 0);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');

    const stored: number[] = [];
    for await (const event of t.app.store.readStream(stockStream('widget-2')))
      stored.push(Number(event.revision));
    expect(stored).toEqual([0]); // the replay, the 412, the 409 and the 400 appended nothing
  });

  it('given a SKU never reserved, then the query answers 404 problem+json', async () => {
    const { res } = await stockOf('never-reserved');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it("given an event stored in the module's old schema, then its projection reads it through the module's upcaster", async () => {
    await t.app.store.append(
      stockStream('legacy-9'),
      [
        {
          id: crypto.randomUUID(),
          type: 'StockReserved',
          data: { sku: 'legacy-9', qty: 11, at: '2025-01-01T00:00:00.000Z' },
          metadata: { schemaVersion: 1 },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    const { res, view } = await stockOf('legacy-9', '?minVersion=0');
    expect(res.headers.get('x-consistency')).toBe('fresh');
    expect(view).toEqual({ sku: 'legacy-9', reserved: 11, version: 0 });
    // and the write side folds the old event in too: 11 + 990 is at the limit, one more is not
    expect((await reserve('legacy-9', MAX_RESERVED - 11)).status).toBe(200);
    expect((await reserve('legacy-9', 1)).status).toBe(409);
  });

  it('given both modules, then orders work beside inventory and the admin API shows every projection of both', async () => {
    const placed = await t.http('/orders', json(validOrder()));
    expect(placed.status).toBe(201);
    const { orderId, version } = (await placed.json()) as { orderId: string; version: number };
    const order = await t.http(`/orders/${orderId}?minVersion=${version}`);
    expect(order.headers.get('x-consistency')).toBe('fresh');

    const rows = await eventually(
      () => adminRows(t.baseUrl, TOKEN),
      (all) => all.every((row) => row.status === 'running' && row.lagEvents === 0),
      { what: 'every projection running and caught up' },
    );
    expect(rows.map((row) => row.name).sort()).toEqual(
      [...orders.projections, ...inventory.projections].map((p) => p.name).sort(),
    );
    expect(rowOf(rows, STOCK_LEVELS).checkpoint).not.toBe('0');
  });

  it('given the inventory projection, when it is rebuilt, then it flips to a new generation with the same model and reads keep answering', async () => {
    const before = await stockOf('widget-1');
    const asked = await t.http(`/admin/projections/${STOCK_LEVELS}/rebuild`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(asked.status).toBe(202);
    const { generation } = (await asked.json()) as { generation: number };
    const row = await eventually(
      async () => rowOf(await adminRows(t.baseUrl, TOKEN), STOCK_LEVELS),
      (r) => r.generation === generation && r.status === 'running',
      { what: `${STOCK_LEVELS} running at generation ${generation}` },
    );
    expect(row.lagEvents).toBe(0);
    const after = await stockOf('widget-1');
    expect(after.res.status).toBe(200);
    expect(after.view).toEqual(before.view);
  });

  it('given the OpenAPI document, then the module’s routes are in it with their operationIds', async () => {
    const doc = (await (await t.http('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    expect(doc.paths['/stock/{sku}/reservations']?.post?.operationId).toBe('reserveStock');
    expect(doc.paths['/stock/{sku}']?.get?.operationId).toBe('getStock');
  });
});

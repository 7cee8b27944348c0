import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderProjections as allProjections } from '../../src/orders';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';

const TOKEN = 'admin-secret-for-tests';
const auth = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

const eventually = async <T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
): Promise<T> => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached in 10 s; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

interface Row {
  name: string;
  version: number;
  generation: number;
  status: string;
  checkpoint: string;
  headPosition: string;
  lagEvents: number;
  lagMs: number;
  parked: number;
}

describe('admin API over HTTP (in-process service, real Redis and SQLite)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ADMIN_TOKEN: TOKEN }, { leaseTtlMs: 1000 });
  });
  afterAll(async () => t.stop());

  const rows = async () => (await (await t.http('/admin/projections', { headers: auth() })).json()) as Row[];
  const post = (path: string, headers: Record<string, string> = auth()) =>
    t.http(path, { method: 'POST', headers });

  it('given no Authorization header, when an admin route is called, then 401 problem+json with WWW-Authenticate: Bearer', async () => {
    const res = await t.http('/admin/projections');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect(((await res.json()) as { type: string }).type).toMatch(/\/unauthorized$/);
  });

  it('given a wrong token, a token of another length or another scheme, when admin routes are called, then 401', async () => {
    for (const headers of [auth('admin-secret-for-tesTS'), auth('x'), { authorization: `Basic ${TOKEN}` }]) {
      const res = await post('/admin/projections/order-view/rebuild', headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    }
    expect(await t.redis.get(`${t.prefix}{order-view}:rebuilding`)).toBeNull();
  });

  it('given another scheme than Bearer, then the 401 says to send a bearer token and names no token error', async () => {
    const res = await post('/admin/projections/order-view/rebuild', { authorization: `Basic ${TOKEN}` });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).not.toMatch(/error=/);
    expect(((await res.json()) as { detail: string }).detail).toBe(
      'Authorization must be Bearer <ADMIN_TOKEN>',
    );
    const wrong = await post('/admin/projections/order-view/rebuild', auth('admin-secret-for-tesTS'));
    expect(wrong.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(((await wrong.json()) as { detail: string }).detail).toBe(
      'the bearer token is not the admin token',
    );
  });

  it('given the token, when the projections are listed, then one row per projection with the documented fields', async () => {
    const placed = (await (await t.http('/orders', json(validOrder()))).json()) as { position: string };
    const listed = await eventually(
      rows,
      (r) => r.every((row) => row.checkpoint === placed.position && row.status === 'running'),
      'every projection at the order’s position',
    );
    expect(listed.map((row) => row.name)).toEqual(allProjections.map((p) => p.name));
    for (const row of listed) {
      const { version } = allProjections.find((p) => p.name === row.name)!;
      expect(row).toMatchObject({ version, generation: 1, headPosition: placed.position, lagEvents: 0 });
      expect(typeof row.lagMs).toBe('number');
      expect(typeof row.parked).toBe('number');
    }
  });

  it('given an unknown projection, when it is rebuilt, listed or replayed, then 404', async () => {
    for (const path of ['/admin/projections/nope/rebuild', '/admin/projections/nope/parked/replay']) {
      expect((await post(path)).status).toBe(404);
    }
    const res = await t.http('/admin/projections/nope/parked', { headers: auth() });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('given a projection, when a rebuild is asked for twice, then 202 with the same new generation, and the rows show it once it has flipped', async () => {
    const first = await post('/admin/projections/customer-orders/rebuild');
    const second = await post('/admin/projections/customer-orders/rebuild');
    expect(first.status).toBe(202);
    const { generation } = (await first.json()) as { generation: number };
    expect(generation).toBe(2);
    expect(((await second.json()) as { generation: number }).generation).toBe(generation);
    const row = await eventually(
      async () => (await rows()).find((r) => r.name === 'customer-orders')!,
      (r) => r.generation === 2 && r.status === 'running',
      'customer-orders running at generation 2',
    );
    expect(row.checkpoint).toBe(row.headPosition);
  });

  it('documents the admin routes in /openapi.json behind a bearer security scheme', async () => {
    const doc = (await (await t.http('/openapi.json')).json()) as {
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<string, Record<string, { security: unknown; responses: Record<string, unknown> }>>;
    };
    expect(doc.components.securitySchemes.adminBearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, method] of [
      ['/admin/projections', 'get'],
      ['/admin/projections/{name}/rebuild', 'post'],
      ['/admin/projections/{name}/parked', 'get'],
      ['/admin/projections/{name}/parked/replay', 'post'],
    ] as const) {
      expect(doc.paths[path]?.[method]?.security).toEqual([{ adminBearer: [] }]);
    }
    expect(Object.keys(doc.paths['/admin/projections/{name}/rebuild']?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(['202', '401', '403', '404']),
    );
  });
});

describe('admin API without ADMIN_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.stop());

  it('given ADMIN_TOKEN unset, when any admin route is called (with or without a token), then 403 "admin API disabled"', async () => {
    const calls: Array<[string, string]> = [
      ['GET', '/admin/projections'],
      ['POST', '/admin/projections/order-view/rebuild'],
      ['GET', '/admin/projections/order-view/parked'],
      ['POST', '/admin/projections/order-view/parked/replay'],
    ];
    for (const [method, path] of calls) {
      for (const headers of [{}, auth()]) {
        const res = await t.http(path, { method, headers });
        expect(res.status).toBe(403);
        const problem = (await res.json()) as { detail: string; type: string };
        expect(problem.detail).toBe('admin API disabled');
        expect(problem.type).toMatch(/\/forbidden$/);
      }
    }
  });
});

describe('admin API by role', () => {
  it('given ROLE=projector, when an admin route is called with the token, then 404: that role serves ops routes only', async () => {
    const t = await startTestApp({ ROLE: 'projector', ADMIN_TOKEN: TOKEN });
    try {
      expect((await t.http('/admin/projections', { headers: auth() })).status).toBe(404);
      expect((await t.http('/health')).status).toBe(200);
    } finally {
      await t.stop();
    }
  });

  it('given ROLE=api, when the projections are listed with the token, then one row per projection, stopped while no projector process holds its lease', async () => {
    const t = await startTestApp({ ROLE: 'api', ADMIN_TOKEN: TOKEN });
    try {
      const res = await t.http('/admin/projections', { headers: auth() });
      expect(res.status).toBe(200);
      const rows = (await res.json()) as Row[];
      expect(rows.map((row) => [row.name, row.status])).toEqual(
        allProjections.map((p) => [p.name, 'stopped']),
      );
    } finally {
      await t.stop();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';

/** Every route of API.md, as OpenAPI paths. */
const CONTRACT: Array<[string, string]> = [
  ['post', '/orders'],
  ['post', '/orders/{id}/items'],
  ['put', '/orders/{id}/shipping-address'],
  ['post', '/orders/{id}/confirm'],
  ['post', '/orders/{id}/ship'],
  ['delete', '/orders/{id}'],
  ['get', '/orders/{id}'],
  ['get', '/customers/{customerId}/orders'],
  ['get', '/orders'],
  ['get', '/reports/daily-revenue'],
  ['get', '/health'],
  ['get', '/ready'],
  ['get', '/metrics'],
  ['get', '/admin/projections'],
  ['post', '/admin/projections/{name}/rebuild'],
  ['get', '/admin/projections/{name}/parked'],
  ['post', '/admin/projections/{name}/parked/replay'],
];

describe('the OpenAPI document and the page that renders it', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ADMIN_TOKEN: 'docs-test' });
  });
  afterAll(async () => t.stop());

  it('given the service, then /openapi.json is OpenAPI 3.1 describing every route of the contract', async () => {
    const res = await t.http('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    for (const [method, path] of CONTRACT)
      expect({ path, method, described: !!doc.paths[path]?.[method] }).toEqual({
        path,
        method,
        described: true,
      });
  });

  it('given the service, then /docs is served with its assets from local files only (no CDN)', async () => {
    const page = await t.http('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
    const assets = [...html.matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      const res = await t.http(asset);
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
  });
});

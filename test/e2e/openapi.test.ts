import { readFileSync } from 'node:fs';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';

interface Operation {
  operationId?: string;
  security?: unknown[];
}
interface OpenApiDocument {
  openapi: string;
  servers?: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** The route tables of docs/api.md: rows that start with `METHOD /path` and name an `operationId`. */
const documentedRoutes = (): string[] => {
  const text = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
  return [...text.matchAll(/^\| `(GET|POST|PUT|DELETE|PATCH) (\/[^`]*)`\s*\| `(\w+)`\s*\|/gm)].map(
    ([, method, path, operationId]) => `${method} ${path} ${operationId}`,
  );
};

const servedRoutes = (doc: OpenApiDocument): string[] =>
  Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([method]) => METHODS.has(method))
      .map(([method, operation]) => `${method.toUpperCase()} ${path} ${operation.operationId}`),
  );

describe('the OpenAPI document and the page that renders it', () => {
  let t: TestApp;
  let doc: OpenApiDocument;
  let source: string;
  beforeAll(async () => {
    t = await startTestApp({ ADMIN_TOKEN: 'docs-test-admin-token' });
    const res = await t.http('/openapi.json');
    expect(res.status).toBe(200);
    source = await res.text();
    doc = JSON.parse(source) as OpenApiDocument;
  });
  afterAll(async () => t.stop());

  it('given docs/api.md, then the served document has exactly the routes and operationIds it lists', () => {
    const documented = documentedRoutes();
    expect(documented.length).toBeGreaterThanOrEqual(17);
    expect(servedRoutes(doc).sort()).toEqual(documented.sort());
  });

  it('given the served document, then it is OpenAPI 3.1 with servers, and every operation has an operationId and declares its security', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers?.[0]?.url).toBe(t.baseUrl); // the origin it was asked at
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([method]) => METHODS.has(method))
        .map(([method, op]) => ({ route: `${method} ${path}`, ...op })),
    );
    const ids = operations.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(operations.length);
    for (const op of operations) {
      expect({ route: op.route, hasId: typeof op.operationId === 'string' }).toEqual({
        route: op.route,
        hasId: true,
      });
      expect({ route: op.route, security: Array.isArray(op.security) }).toEqual({
        route: op.route,
        security: true,
      });
      // Public routes say so with `security: []`; admin routes name the bearer scheme.
      expect({ route: op.route, bearer: op.security!.length > 0 }).toEqual({
        route: op.route,
        bearer: op.route.includes(' /admin/'),
      });
    }
  });

  it("given the served document, then Redocly's recommended rules find no error in it", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source, absoluteRef: 'openapi.json', config });
    const errors = problems
      .filter((problem) => problem.severity === 'error')
      .map((problem) => `${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer ?? '?'}`);
    expect(errors).toEqual([]);
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

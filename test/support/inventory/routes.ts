// The HTTP API of the inventory module: one command route, one query route.
import { z } from 'zod';
import type { RouteBuilder } from '../../../src/http';
import { MAX_RESERVED, stockStream } from './stock';
import { STOCK_LEVELS } from './stock-levels';

const SkuParam = z.object({
  sku: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1–64 characters of A–Z, a–z, 0–9, "_", "." or "-"')
    .meta({ description: 'The stock keeping unit.', example: 'widget-1' }),
});

const ReserveBody = z.strictObject({
  quantity: z.number().int().min(1).max(MAX_RESERVED).meta({ description: 'Units to reserve.' }),
});

const StockViewSchema = z
  .object({ sku: z.string(), reserved: z.number().int(), version: z.number().int() })
  .meta({ id: 'StockView' });

export const inventoryRoutes = (r: RouteBuilder): void => {
  r.command({
    method: 'post',
    path: '/stock/{sku}/reservations',
    operationId: 'reserveStock',
    summary: 'Reserve units of a SKU',
    tags: ['Inventory'],
    params: SkuParam,
    idParam: 'sku',
    body: ReserveBody,
    entity: { kind: 'stock item', idField: 'sku' },
    errors: { 409: `More than ${MAX_RESERVED} units reserved, or a conflict that persisted` },
    toCommand: ({ id, body, at }) => ({
      type: 'ReserveStock',
      data: { sku: id, quantity: body.quantity, at },
    }),
  });
  r.query({
    path: '/stock/{sku}',
    operationId: 'getStock',
    summary: 'Units reserved of a SKU',
    tags: ['Inventory'],
    params: SkuParam,
    toQuery: ({ params }) => ({ type: 'GetStock', params: { sku: params.sku } }),
    response: StockViewSchema,
    reads: [STOCK_LEVELS],
    // The view carries the stream's revision (every event stamps it): a fresh read needs no check of its own.
    version: {
      projection: STOCK_LEVELS,
      stream: (params) => stockStream(params.sku),
      of: (view) => view.version,
    },
    notFound: (params) => `nothing of ${params.sku} was ever reserved`,
    etag: (view) => view.version,
  });
};

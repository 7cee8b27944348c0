// What a bad request is, and the builders the table and the generators share.
import { validOrder } from '../support/app';

export interface BadRequest {
  label: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export const JSON_TYPE = { 'content-type': 'application/json' };
export const line = { sku: 'SKU-1', quantity: 1, unitPrice: 1 };
export const address = { line1: '1 Main Street', city: 'Berlin', postalCode: '10115', country: 'DE' };

export const jsonRequest = (label: string, method: string, path: string, value: unknown): BadRequest => ({
  label,
  method,
  path,
  headers: JSON_TYPE,
  body: JSON.stringify(value),
});
export const place = (label: string, value: unknown) => jsonRequest(label, 'POST', '/orders', value);
export const rawPlace = (
  label: string,
  body: string | Buffer,
  headers: Record<string, string> = JSON_TYPE,
) => ({
  label,
  method: 'POST',
  path: '/orders',
  headers,
  body,
});

export const DELETE = Symbol('delete');

/** A copy of `value` with the field at the dotted `path` replaced (or removed with DELETE). */
export const withField = (value: unknown, path: string, replacement: unknown): unknown => {
  const copy = structuredClone(value) as Record<string, unknown>;
  const keys = path.split('.');
  let target = copy as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (replacement === DELETE) delete target[last];
  else target[last] = replacement;
  return copy;
};

export const orderWith = (path: string, replacement: unknown) => withField(validOrder(), path, replacement);

/** Strings that mean something to Redis keys, patterns, hash tags or protocols. */
export const REDIS_LIKE = ['*', ':', '{', '}', '{x}', 'a:b', 'order-*', '\n', '\r\n', '\u0000', ' ', 'ü'];

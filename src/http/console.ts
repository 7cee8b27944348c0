import { readFileSync } from 'node:fs';
import type { OpenAPIHono } from '@hono/zod-openapi';

/** The page's files, next to src/ and dist/ alike (both are two levels below the repository root). */
const CONSOLE_DIR = new URL('../../console/', import.meta.url);

const FILES: Record<string, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/** Nothing but this origin's own files and API: no inline script or style, no other host, no framing. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * GET /console: a page that shows the admin API live (projections, lag, rebuilds, parked events, new
 * events, a stream browser). It holds no data itself: everything comes from /admin/* with the token the
 * user types, kept for the tab only.
 */
export const registerConsole = (app: OpenAPIHono): void => {
  const read = (name: string) => readFileSync(new URL(name, CONSOLE_DIR));
  const page = read('index.html');
  const files = Object.fromEntries(Object.keys(FILES).map((name) => [name, read(name)]));
  const headers = (type: string) => ({
    'content-type': type,
    'content-security-policy': CONSOLE_CSP,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  app.get('/console', (c) => c.body(page, 200, headers('text/html; charset=utf-8')));
  app.get('/console/:file', (c) => {
    const file = c.req.param('file');
    const type = FILES[file];
    if (type === undefined) return c.notFound();
    return c.body(files[file]!, 200, headers(type));
  });
};

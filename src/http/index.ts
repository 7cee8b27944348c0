export { type AdminRouteDeps, adminAuth } from './admin.js';
export { createHttpApp, type HttpAppDeps } from './app.js';
export { type CommandInput, type CommandRouteSpec, MAX_IDEMPOTENCY_KEY_LENGTH } from './command-route.js';
export { type HttpServerOptions, SERVER_TIMEOUTS, startHttpServer } from './node-server.js';
export type { ReadinessCheck } from './ops.js';
export { PROBLEM_CONTENT_TYPE, type ProblemBody, problemResponse, toProblem } from './problem.js';
export type { QueryRouteSpec } from './query-route.js';
export {
  announcesBody,
  headerLines,
  ifMatchVersions,
  isJsonMediaType,
  MAX_BODY_BYTES,
  parseParams,
  readJsonBody,
} from './request.js';
export type { RouteBuilder, RouteDeps } from './route-builder.js';

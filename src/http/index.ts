export { type AdminRouteDeps, adminAuth } from './admin';
export { createHttpApp, type HttpAppDeps } from './app';
export { type CommandInput, type CommandRouteSpec, MAX_IDEMPOTENCY_KEY_LENGTH } from './command-route';
export type { ReadinessCheck } from './ops';
export { PROBLEM_CONTENT_TYPE, type ProblemBody, problemResponse, toProblem } from './problem';
export type { QueryRouteSpec } from './query-route';
export {
  announcesBody,
  headerLines,
  ifMatchVersions,
  isJsonMediaType,
  MAX_BODY_BYTES,
  parseParams,
  readJsonBody,
} from './request';
export type { RouteBuilder, RouteDeps } from './route-builder';

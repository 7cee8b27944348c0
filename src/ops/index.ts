export { AppendHealth, type AppendHealthOptions, causeOf } from './append-health.js';
export { ensureLocalRedis, RedisNotAvailable, redisAnswers } from './local-redis.js';
export { createLogger, type LogDestination, type Logger, redactUrl, stdoutDestination } from './logger.js';
export { createMetrics, type Metrics, type ProjectionMetricsSource } from './metrics.js';

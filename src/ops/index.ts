export { AppendHealth, type AppendHealthOptions, causeOf } from './append-health';
export { ensureLocalRedis, RedisNotAvailable, redisAnswers } from './local-redis';
export { createLogger, type Logger, redactUrl } from './logger';
export { createMetrics, type Metrics, type ProjectionMetricsSource } from './metrics';

import pino, { type Logger } from 'pino';
import { redactCredentials } from '../redact/index.js';

/** Paths of anything secret that could reach a log line; pino replaces them. */
const REDACT = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'adminToken',
  'config.adminToken',
  '*.password',
];

/** Credentials inside a URL (redis://user:secret@host) never reach a log line. */
export const redactUrl = (url: string | undefined): string | undefined =>
  url === undefined ? undefined : redactCredentials(url);

/** JSON lines to stdout (or `destination`), with secrets censored. */
export const createLogger = (level: string, destination?: pino.DestinationStream): Logger =>
  pino({ level, redact: { paths: REDACT, censor: '***' }, base: { service: 'sluice' } }, destination);

export type { Logger };

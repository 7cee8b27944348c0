export * from './buses.js';
export * from './errors.js';
export * from './idempotency-claim.js';
export * from './messages.js';
export * from './stream-command.js';
export * from './upcasting.js';
export * from './validation.js';

export * from './buses';
export * from './errors';
export * from './idempotency-claim';
export * from './messages';
export * from './stream-command';
export * from './upcasting';
export * from './validation';

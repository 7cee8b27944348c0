export * from './event-store.js';
export { type EventStoreLocation, openEventStore, parseEventStoreUrl } from './from-url.js';

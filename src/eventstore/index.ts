export * from './event-store';
export { type EventStoreLocation, openEventStore, parseEventStoreUrl } from './from-url';

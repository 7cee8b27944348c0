export * from './event-store';
export { openEventStore } from './from-url';

import type { EventStore } from './event-store';

export type EventStoreLocation =
  | { kind: 'sqlite'; path: string } // ':memory:' for a throwaway store
  | { kind: 'esdb'; connectionString: string };

/** Parses EVENTSTORE_URL; throws an Error whose message names what is wrong. */
export const parseEventStoreUrl = (url: string): EventStoreLocation => {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '')
      throw new Error('sqlite: needs a path, e.g. sqlite:./data/events.sqlite or sqlite::memory:');
    return { kind: 'sqlite', path };
  }
  if (/^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover):\/\/.+/.test(url)) {
    // @eventstore/db-client 6.x only parses the esdb schemes.
    return { kind: 'esdb', connectionString: url.replace(/^kurrentdb/, 'esdb') };
  }
  throw new Error(
    `unknown scheme in "${url}": use sqlite:<path>, sqlite::memory:, esdb://… or esdb+discover://…`,
  );
};

export const openEventStore = async (url: string): Promise<EventStore> => {
  const location = parseEventStoreUrl(url);
  if (location.kind === 'sqlite') {
    const { SqliteEventStore } = await import('./sqlite');
    return SqliteEventStore.open(location.path);
  }
  const { EsdbEventStore } = await import('./esdb');
  return EsdbEventStore.connect(location.connectionString);
};

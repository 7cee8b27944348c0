import { createRequire } from 'node:module';
import type { EventStore } from './event-store.js';
import type { SqliteEventStoreOptions } from './sqlite.js';

export type EventStoreLocation =
  | { kind: 'sqlite'; path: string; options: SqliteEventStoreOptions } // ':memory:' for a throwaway store
  | { kind: 'esdb'; connectionString: string };

// Tuning a SQLite URL may carry after `?`: sqlite:<path>?busyTimeoutMs=200&pollIntervalMs=100
const SQLITE_OPTIONS = ['busyTimeoutMs', 'foreignCommitCheckMs', 'pollIntervalMs', 'pageSize'] as const;
type SqliteOptionName = (typeof SQLITE_OPTIONS)[number];
const MAX_OPTION_VALUE = 600_000;

const isSqliteOption = (name: string): name is SqliteOptionName =>
  (SQLITE_OPTIONS as readonly string[]).includes(name);

const parseSqliteOptions = (query: string): SqliteEventStoreOptions => {
  const options: SqliteEventStoreOptions = {};
  for (const [name, value] of new URLSearchParams(query)) {
    if (!isSqliteOption(name)) {
      throw new Error(`unknown sqlite option "${name}": use ${SQLITE_OPTIONS.join(', ')}`);
    }
    const number = Number(value);
    if (!/^\d+$/.test(value) || number > MAX_OPTION_VALUE || (name !== 'busyTimeoutMs' && number === 0)) {
      throw new Error(`sqlite option ${name}=${value} must be a whole number up to ${MAX_OPTION_VALUE}`);
    }
    options[name] = number;
  }
  return options;
};

/**
 * The client's own parser, so a bad option (`?tls=maybe`) or port is refused at start-up with the variable
 * named, not at the first connection. Loaded only for an esdb URL: it brings the gRPC stack with it.
 */
const checkEsdbConnectionString = (connectionString: string): void => {
  const { parseConnectionString } = createRequire(import.meta.url)(
    '@eventstore/db-client/dist/Client/parseConnectionString.js',
  ) as { parseConnectionString: (text: string) => { hosts?: Array<{ address: string; port: number }> } };
  const options = parseConnectionString(connectionString);
  for (const { address, port } of options.hosts ?? []) {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new Error(`port ${port} of ${address} must be 1–65535`);
  }
};

/**
 * Parses EVENTSTORE_URL; throws an Error whose message names what is wrong.
 * `sqlite:<path>[?busyTimeoutMs=…&pollIntervalMs=…&pageSize=…]`: everything after the first `?` is
 * tuning of the embedded store (a path cannot contain `?`); `esdb://…` goes to the client as it is.
 */
export const parseEventStoreUrl = (url: string): EventStoreLocation => {
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length);
    const queryAt = rest.indexOf('?');
    const path = queryAt === -1 ? rest : rest.slice(0, queryAt);
    if (path === '')
      throw new Error('sqlite: needs a path, e.g. sqlite:./data/events.sqlite or sqlite::memory:');
    const options = queryAt === -1 ? {} : parseSqliteOptions(rest.slice(queryAt + 1));
    return { kind: 'sqlite', path, options };
  }
  if (/^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover):\/\/.+/.test(url)) {
    // @eventstore/db-client 6.x only parses the esdb schemes.
    const connectionString = url.replace(/^kurrentdb/, 'esdb');
    checkEsdbConnectionString(connectionString);
    return { kind: 'esdb', connectionString };
  }
  throw new Error(
    `unknown scheme in "${url}": use sqlite:<path>, sqlite::memory:, esdb://… or esdb+discover://…`,
  );
};

export const openEventStore = async (url: string): Promise<EventStore> => {
  const location = parseEventStoreUrl(url);
  if (location.kind === 'sqlite') {
    const { SqliteEventStore } = await import('./sqlite.js');
    return SqliteEventStore.open(location.path, location.options);
  }
  const { EsdbEventStore } = await import('./esdb.js');
  return EsdbEventStore.connect(location.connectionString);
};

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/eventstore/sqlite';
import { describeEventStoreContract } from './event-store.contract';

describeEventStoreContract('sqlite (temp file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-contract-'));
  // A nested path also checks that open() creates missing parent directories.
  const store = SqliteEventStore.open(join(dir, 'nested', 'events.sqlite'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describeEventStoreContract('sqlite (:memory:)', async () => {
  const store = SqliteEventStore.open(':memory:');
  return { store, cleanup: () => store.close() };
});

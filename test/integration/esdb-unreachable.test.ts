/**
 * The EventStoreDB adapter with the real client, against servers that are not there: a refused port and a
 * "black hole" that accepts TCP and never answers. No EventStoreDB needed, so this always runs.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EsdbEventStore } from '../../src/eventstore/esdb';
import { EventStoreUnavailable } from '../../src/eventstore/event-store';

const listen = async (onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number }> => {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
};

/** A port nothing listens on: bound, then released. */
const refusedPort = async (): Promise<number> => {
  const { server, port } = await listen(() => {});
  await new Promise((resolve) => server.close(resolve));
  return port;
};

const event = () => ({ id: randomUUID(), type: 'Probed', data: {}, metadata: {} });

const elapsedMs = async (work: () => Promise<unknown>): Promise<number> => {
  const started = Date.now();
  await work();
  return Date.now() - started;
};

describe('EsdbEventStore without a server', () => {
  let store: EsdbEventStore;

  afterEach(async () => {
    await store.close();
  });

  describe('given a refused port', () => {
    let port: number;

    beforeAll(async () => {
      port = await refusedPort();
    });

    const open = () => EsdbEventStore.connect(`esdb://127.0.0.1:${port}?tls=false`);

    it('when pinged, appended to, read or asked for its head, then EventStoreUnavailable at once', async () => {
      store = await open();
      await expect(store.ping()).rejects.toBeInstanceOf(EventStoreUnavailable);
      const append = store.append('order-1', [event()], { expectedRevision: 'no_stream' });
      await expect(append).rejects.toBeInstanceOf(EventStoreUnavailable);
      await expect(store.headPosition()).rejects.toBeInstanceOf(EventStoreUnavailable);
      const read = async () => {
        for await (const _ of store.readStream('order-1')) {
          // nothing comes
        }
      };
      await expect(read()).rejects.toBeInstanceOf(EventStoreUnavailable);
    });

    it('when a subscription waits (resubscribing with backoff), then close() ends the wait at once', async () => {
      store = await open();
      const subscription = store.subscribeAll({ from: 'start', filter: { streamPrefixes: ['order-'] } });
      const pending = subscription[Symbol.asyncIterator]().next();
      await new Promise((resolve) => setTimeout(resolve, 300)); // a few failed attempts
      const closing = await elapsedMs(async () => {
        await subscription.close();
        expect(await pending).toEqual({ done: true, value: undefined });
      });
      expect(closing).toBeLessThan(500);
    });

    it('when closed twice, then the second close is a no-op and the store refuses new work', async () => {
      store = await open();
      await store.close();
      await store.close();
      expect(() => store.subscribeAll({ from: 'start' })).toThrow(/closed/);
      await expect(store.append('order-1', [event()], { expectedRevision: 'any' })).rejects.toThrow(/closed/);
    });
  });

  describe('given a server that accepts connections and never answers', () => {
    const sockets: Socket[] = [];
    let hole: Server;
    let port: number;

    beforeAll(async () => {
      ({ server: hole, port } = await listen((socket) => sockets.push(socket)));
    });

    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hole.close(resolve));
    });

    it('when pinged, then EventStoreUnavailable after the ping time limit, not a hang', async () => {
      store = await EsdbEventStore.connect(`esdb://127.0.0.1:${port}?tls=false`);
      const took = await elapsedMs(() => expect(store.ping()).rejects.toBeInstanceOf(EventStoreUnavailable));
      expect(took).toBeGreaterThanOrEqual(1_900);
      expect(took).toBeLessThan(4_000);
    });

    it('when a subscription is closed while it looks for the end of $all, then it ends at once', async () => {
      store = await EsdbEventStore.connect(`esdb://127.0.0.1:${port}?tls=false`);
      const subscription = store.subscribeAll({ from: 'start' });
      const pending = subscription[Symbol.asyncIterator]().next();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const closing = await elapsedMs(async () => {
        await subscription.close();
        await pending;
      });
      expect(closing).toBeLessThan(500);
    });
  });
});

/**
 * The shared event-store contract against a real EventStoreDB: the server at ESDB_URL when it is set,
 * else a throwaway container when a Docker engine answers, else skipped with one line saying why.
 * Finding out costs a few existsSync calls and at most one 500 ms ping, so a skip never slows CI.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';

const IMAGE = 'eventstore/eventstore:24.10';
const PING_TIMEOUT_MS = 500;
const STARTUP_TIMEOUT_MS = 180_000; // a first run pulls the image

type DockerEndpoint = { socketPath: string } | { host: string; port: number };
type Target = { kind: 'url'; url: string } | { kind: 'docker' } | { kind: 'none'; reason: string };

/** Where an engine usually listens: DOCKER_HOST, the system socket, Docker Desktop, rootless, Colima. */
const dockerEndpoints = (): { label: string; endpoint: DockerEndpoint }[] => {
  const dockerHost = process.env.DOCKER_HOST;
  if (dockerHost?.startsWith('tcp://')) {
    const { hostname, port } = new URL(dockerHost.replace(/^tcp:/, 'http:'));
    return [{ label: dockerHost, endpoint: { host: hostname, port: Number(port || 2375) } }];
  }
  const sockets = dockerHost?.startsWith('unix://')
    ? [dockerHost.slice('unix://'.length)]
    : [
        '/var/run/docker.sock',
        join(homedir(), '.docker/run/docker.sock'),
        ...(process.env.XDG_RUNTIME_DIR ? [join(process.env.XDG_RUNTIME_DIR, 'docker.sock')] : []),
        join(homedir(), '.colima/default/docker.sock'),
      ];
  return sockets.map((socketPath) => ({ label: socketPath, endpoint: { socketPath } }));
};

/** GET /_ping with a short timeout: true only when an engine answers 200. */
const pingDocker = (endpoint: DockerEndpoint): Promise<boolean> =>
  new Promise((resolve) => {
    const req = request({ ...endpoint, path: '/_ping', timeout: PING_TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });

const findTarget = async (): Promise<Target> => {
  const url = process.env.ESDB_URL;
  if (url) return { kind: 'url', url };
  const candidates = dockerEndpoints();
  for (const { endpoint } of candidates) {
    if ('socketPath' in endpoint && !existsSync(endpoint.socketPath)) continue;
    if (await pingDocker(endpoint)) return { kind: 'docker' };
  }
  const places = candidates.map((c) => c.label).join(', ');
  return { kind: 'none', reason: `no ESDB_URL and no Docker engine answering at ${places}` };
};

const startContainer = async (): Promise<{ url: string; stop: () => Promise<void> }> => {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(IMAGE)
    .withEnvironment({
      EVENTSTORE_INSECURE: 'true',
      EVENTSTORE_CLUSTER_SIZE: '1',
      EVENTSTORE_RUN_PROJECTIONS: 'None',
      EVENTSTORE_MEM_DB: 'true',
    })
    .withExposedPorts(2113)
    .withWaitStrategy(Wait.forHttp('/health/live', 2113))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start();
  const url = `esdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`;
  return { url, stop: async () => void (await container.stop()) };
};

const target = await findTarget();

if (target.kind === 'none') {
  console.log(`[esdb] skipped: ${target.reason}`);
  describe.skip(`event store contract: esdb (skipped: ${target.reason})`, () => {
    it('runs against a real EventStoreDB', () => {});
  });
} else {
  const { EsdbEventStore } = await import('../../src/eventstore/esdb');
  const { describeEventStoreContract } = await import('./event-store.contract');
  let url = target.kind === 'url' ? target.url : '';
  let stop = async (): Promise<void> => {};

  /** /health/live answers before the node has been elected leader; an append proves it takes writes. */
  const waitUntilWritable = async (connectionString: string): Promise<void> => {
    const store = await EsdbEventStore.connect(connectionString);
    const deadline = Date.now() + 60_000;
    try {
      while (true) {
        try {
          const probe = { id: randomUUID(), type: 'ContractWarmedUp', data: {}, metadata: {} };
          await store.append(`contract-warmup-${randomUUID()}`, [probe], { expectedRevision: 'no_stream' });
          return;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await sleep(500);
        }
      }
    } finally {
      await store.close();
    }
  };

  beforeAll(async () => {
    if (target.kind === 'docker') ({ url, stop } = await startContainer());
    await waitUntilWritable(url);
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(() => stop());

  describeEventStoreContract('esdb', async () => {
    const store = await EsdbEventStore.connect(url);
    return { store, cleanup: () => store.close() };
  });
}

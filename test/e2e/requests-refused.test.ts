// Requests that never reach a route: refused as problem+json, logged like any other request, and a client
// that sends its headers a line at a time (slowloris) is cut off when the headers timeout says.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_TIMEOUTS } from '../../src/http';
import { startTestApp } from '../support/app';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';

const prefix = uniqueRedisPrefix('requests-refused');
let service: ServiceProcess;

beforeAll(async () => {
  service = await startServiceProcess({
    EVENTSTORE_URL: 'sqlite::memory:',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    ROLE: 'api',
  });
});
afterAll(async () => {
  await service?.kill();
  await deleteKeysWithPrefix(prefix);
});

/** Sends raw bytes, answers everything that came back before the server closed the connection. */
const rawExchange = (baseUrl: string, bytes: string) =>
  new Promise<string>((resolve, reject) => {
    const { hostname, port } = new URL(baseUrl);
    let answer = '';
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(bytes));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });

const refusalLines = () =>
  service.logs.filter(
    (line) => typeof line === 'object' && line.msg === 'request refused before it reached a route',
  ) as Array<{ status: number }>;

/** Sends a header line every `everyMs` and never ends the headers; answers what came back and when it closed. */
const trickleHeaders = (baseUrl: string, everyMs: number) =>
  new Promise<{ answer: string; closedAfterMs: number }>((resolve, reject) => {
    const { hostname, port } = new URL(baseUrl);
    const started = Date.now();
    let answer = '';
    let lines = 0;
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(`GET /health HTTP/1.1\r\nHost: ${hostname}\r\n`);
    });
    const trickle = setInterval(() => socket.write(`X-Line-${lines++}: still coming\r\n`), everyMs);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      clearInterval(trickle);
      resolve({ answer, closedAfterMs: Date.now() - started });
    });
  });

describe('requests that never reach a route', () => {
  it.each([
    ['a malformed Host', 'GET /health HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n', 400],
    ['bytes that are not HTTP', '\x16\x03\x01 hello there\r\n\r\n', 400],
    [
      'Content-Length with Transfer-Encoding',
      'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    ['headers over 16 KiB', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431],
  ])(
    'given %s, then problem+json with status %i and a log line that says so',
    async (_what, bytes, status) => {
      const before = refusalLines().length;
      const answer = await rawExchange(service.baseUrl, bytes);
      expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(answer).toMatch(/\r\ncontent-type: application\/problem\+json/i);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
        status: number;
        detail: string;
      };
      expect(body.status).toBe(status);
      expect(body.detail.length).toBeGreaterThan(0);
      const deadline = Date.now() + 2000;
      while (refusalLines().length === before && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(
        refusalLines()
          .slice(before)
          .map((line) => line.status),
      ).toEqual([status]);
    },
  );
});

describe('a client that never finishes its headers', () => {
  it('given header lines trickling in, then 408 and the connection closed within the headers timeout (plus one check)', async () => {
    const { answer, closedAfterMs } = await trickleHeaders(service.baseUrl, 500);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeGreaterThanOrEqual(SERVER_TIMEOUTS.headersMs - 100);
    // Node looks for late connections every checkEveryMs; its default (30 s) let this one stay ~30 s.
    expect(closedAfterMs).toBeLessThan(SERVER_TIMEOUTS.headersMs + SERVER_TIMEOUTS.checkEveryMs + 1500);
    expect((await fetch(`${service.baseUrl}/health`)).status).toBe(200);
  }, 30_000);
});

describe('a client that never finishes its body', () => {
  it('given a body that stops coming, then 408 problem+json, and the request is recorded as 408, not as a client abort (499)', async () => {
    // The service's limits scaled down (30 s → 600 ms) so the test need not wait half a minute.
    const t = await startTestApp(
      {},
      { serverOptions: { headersTimeout: 500, requestTimeout: 600, connectionsCheckingInterval: 100 } },
    );
    try {
      const answer = await rawExchange(
        t.baseUrl,
        'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"cust',
      );
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toMatch(/\r\ncontent-type: application\/problem\+json/i);
      const metrics = await (await t.http('/metrics')).text();
      const statuses = [
        ...metrics.matchAll(
          /^sluice_http_request_duration_seconds_count\{[^}]*route="\/orders"[^}]*status="(\d+)"[^}]*\} \d+$/gm,
        ),
      ].map((m) => m[1]);
      expect(statuses).toEqual(['408']);
    } finally {
      await t.stop();
    }
  });
});

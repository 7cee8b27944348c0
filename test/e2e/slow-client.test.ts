// A client that sends its headers a line at a time (slowloris) is cut off when the headers timeout says.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_TIMEOUTS } from '../../src/service';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';

const prefix = uniqueRedisPrefix('slow-client');
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

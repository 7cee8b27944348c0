// A client that goes away mid-body is the client's failure, not the server's: no error line, no 5xx.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, validOrder } from '../support/app';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';

const prefix = uniqueRedisPrefix('client-abort');
let service: ServiceProcess;

beforeAll(async () => {
  service = await startServiceProcess({
    EVENTSTORE_URL: 'sqlite::memory:',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    ROLE: 'api',
    LOG_LEVEL: 'debug',
  });
});
afterAll(async () => {
  await service?.kill();
  await deleteKeysWithPrefix(prefix);
});

/** Announces 1000 bytes, sends 6, closes: what a client killed mid-upload does. */
const abortMidBody = (baseUrl: string, path: string) =>
  new Promise<void>((resolve, reject) => {
    const { hostname, port } = new URL(baseUrl);
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"cust`,
      );
      setTimeout(() => socket.end(), 50);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
    socket.resume();
  });

const httpStatuses = async (baseUrl: string): Promise<string[]> => {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return [
    ...text.matchAll(/^sluice_http_request_duration_seconds_count\{[^}]*status="(\d+)"[^}]*\} \d+$/gm),
  ].map((m) => m[1]!);
};

describe('a client that aborts mid-body', () => {
  it('given 10 connections that announce 1000 bytes, send 6 and close, then no error line, no 5xx in the metrics, and the service still answers', async () => {
    for (let i = 0; i < 10; i++) await abortMidBody(service.baseUrl, '/orders');
    await new Promise((r) => setTimeout(r, 300));

    const errors = service.logs.filter((line) => typeof line === 'object' && Number(line.level) >= 50);
    expect(errors).toEqual([]);
    expect((await httpStatuses(service.baseUrl)).filter((status) => status.startsWith('5'))).toEqual([]);
    const requestLines = service.logs.filter(
      (line) => typeof line === 'object' && line.msg === 'request' && line.path === '/orders',
    );
    expect(requestLines.map((line) => (line as { status: number }).status)).toEqual(Array(10).fill(499));

    expect((await fetch(`${service.baseUrl}/orders`, json(validOrder()))).status).toBe(201);
  });
});

import { Agent, request as httpRequest } from 'node:http';
import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSec: number;
  p50: number;
  p99: number;
  completed: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  statusCounts: Record<string, number>;
}

/** Runs autocannon in this process (the server under test is a child process) and condenses its result. */
export const runAutocannon = async (options: autocannon.Options): Promise<LoadResult> => {
  const result = await autocannon({ ...options, bailout: undefined });
  const statusCounts: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    statusCounts[status] = count ?? 0;
  }
  const completed = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return {
    requestsPerSec: completed / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    completed,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    statusCounts,
  };
};

export const describeStatuses = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .filter(([status]) => !status.startsWith('2'))
    .map(([status, count]) => `${status}×${count}`)
    .join(' ') || '–';

/**
 * One connection, one request at a time, for `durationS`: each request timed with the high-resolution clock
 * (autocannon's histogram keeps whole milliseconds, too coarse for a read that takes a fraction of one).
 */
export const sequentialLatency = async (
  base: string,
  nextPath: () => string,
  durationS: number,
): Promise<{ requests: number; p50: number; p99: number; requestsPerSec: number }> => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const { hostname, port } = new URL(base);
  const get = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const request = httpRequest({ hostname, port, path, agent }, (response) => {
        response.on('data', () => {});
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end();
    });
  const ms: number[] = [];
  const started = performance.now();
  try {
    while (performance.now() - started < durationS * 1000) {
      const t0 = performance.now();
      const status = await get(nextPath());
      ms.push(performance.now() - t0);
      if (status !== 200) throw new Error(`GET answered ${status}`);
    }
  } finally {
    agent.destroy();
  }
  ms.sort((a, b) => a - b);
  const at = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]!;
  return {
    requests: ms.length,
    p50: at(50),
    p99: at(99),
    requestsPerSec: ms.length / ((performance.now() - started) / 1000),
  };
};

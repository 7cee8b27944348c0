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

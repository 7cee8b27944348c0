import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Every log line the process printed (pino JSON, parsed when possible). */
  logs: Array<Record<string, unknown> | string>;
  /** Resolves with the exit code (or signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill: (signal?: NodeJS.Signals) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * Runs `src/main.ts` (or another entry point `script`, relative to the repository) as a real process (as
 * `npm start` does) on a free port and waits until it listens.
 * Use for crashes (SIGKILL), signals, leases between processes.
 */
export const startServiceProcess = async (
  env: Record<string, string>,
  { readyTimeoutMs = 20_000, script = 'src/main.ts' } = {},
): Promise<ServiceProcess> => {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: ServiceProcess['logs'] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': by then stdout is read to its end, so `logs` holds the last lines too.
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`service did not listen within ${readyTimeoutMs} ms: ${JSON.stringify(logs.slice(-5))}`),
        ),
      readyTimeoutMs,
    );
    const onLine = (line: string) => {
      let parsed: Record<string, unknown> | string = line;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {}
      logs.push(parsed);
      if (typeof parsed === 'object' && parsed.msg === 'sluice listening') {
        clearTimeout(timer);
        resolve(String(parsed.url));
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(`service exited (${code ?? signal}) before listening: ${JSON.stringify(logs.slice(-5))}`),
      );
    });
  });
  return {
    child,
    baseUrl,
    logs,
    exited,
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
};

import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createClient } from 'redis';

export interface MachineInfo {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  redis: string;
  os: string;
  /** 1-minute load average when the run began: the machine is shared, so this says how quiet it was. */
  loadAtStart: number;
}

const cpuModel = (): string => {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    return line?.split(':')[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
};

export const redisVersion = async (url: string): Promise<string> => {
  const client = createClient({ url });
  await client.connect();
  try {
    const info = await client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } finally {
    client.destroy();
  }
};

export const machineInfo = async (redisUrl: string): Promise<MachineInfo> => ({
  cpu: cpuModel(),
  cores: os.cpus().length,
  ramGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
  node: process.version,
  redis: await redisVersion(redisUrl).catch((error: Error) => `unreachable (${error.message})`),
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  loadAtStart: Math.round(os.loadavg()[0]! * 100) / 100,
});

export const describeMachine = (m: MachineInfo): string =>
  `machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, ${m.os}; node ${m.node}; redis ${m.redis}; ` +
  `load average (1 min) at start ${m.loadAtStart}`;

/** Resident memory of a process from /proc/<pid>/status: now (VmRSS) and its peak so far (VmHWM). */
export const processMemory = (pid: number): { rss: number; peak: number } | undefined => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const rss = kib('VmRSS') * 1024;
    // A process that has exited but not been reaped has a status file without memory lines.
    return Number.isFinite(rss) ? { rss, peak: kib('VmHWM') * 1024 } : undefined;
  } catch {
    return undefined;
  }
};

export const currentLoad = (): number => Math.round(os.loadavg()[0]! * 100) / 100;

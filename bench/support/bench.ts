import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mainProfileIn, summarizeProfile } from './cpu-profile';
import { CACHE_DIR } from './prefill';
import { fmtInt, say, table } from './report';

export interface BenchArgs {
  /** Events in the prefilled store (projection, rebuild). */
  events?: number;
  /** Events per atomic apply for projection and rebuild (default: the projector's own, 1000). */
  batchSize?: number;
  /** Runs of each measurement of ours, best one compared (projection; rebuild's one-projection phase). */
  repeat?: number;
  /** How many times the loads of a comparison are taken in turn (reads). */
  rounds?: number;
  /** Soak length. */
  minutes?: number;
  /** Seconds of load per target (commands, mixed). */
  duration?: number;
  connections?: number;
  /** Requests per second (soak). */
  rate?: number;
  /** Run the process under test with --cpu-prof and print where its time went. */
  profile: boolean;
  /** LOG_LEVEL of the service under test (default info, as deployed). */
  logLevel: string;
}

export interface Bench {
  name: string;
  summary: string;
  /** Part of `npm run bench` without a name. */
  inDefault: boolean;
  run: (args: BenchArgs) => Promise<void>;
}

/** A temp directory with an events.sqlite path in it, removed afterwards. */
export const tempStore = (): { path: string; url: string; remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-store-'));
  const path = join(dir, 'events.sqlite');
  return { path, url: `sqlite:${path}`, remove: () => rmSync(dir, { recursive: true, force: true }) };
};

/** Node flags that make the child write a CPU profile on exit, and where to find it. */
export const profilingFor = (args: BenchArgs, label: string): { nodeArgs: string[]; dir?: string } => {
  if (!args.profile) return { nodeArgs: [] };
  const dir = join(CACHE_DIR, 'profiles', `${label}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  return { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`], dir };
};

/** Prints the heaviest functions and files (self time) of the profile a child wrote into `dir`. */
export const reportProfile = (dir: string | undefined, label: string): void => {
  if (dir === undefined) return;
  const file = mainProfileIn(dir);
  if (file === undefined) {
    say(`(no CPU profile was written for ${label})`);
    return;
  }
  const { functions, files, ours, totalMs } = summarizeProfile(file, 12);
  const rows = (spots: typeof functions) =>
    spots.map((s) => ({
      where: s.where,
      'self ms': fmtInt(s.selfMs),
      share: `${(s.share * 100).toFixed(1)} %`,
    }));
  say(`\nCPU profile of ${label} (${fmtInt(totalMs)} ms sampled; ${file}):`);
  say(table(rows(functions)));
  say('\nself time by file:');
  say(table(rows(files)));
  say('\nour functions, callees included (nested ones overlap):');
  say(table(rows(ours)));
};

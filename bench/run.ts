// `npm run bench` runs the standard set; `npm run bench -- <name> [--events N] [--minutes N] [--duration S] [--rounds N]
// [--connections N] [--rate N] [--log-level L] [--profile]` runs one. Every bench starts and stops what it needs
// on 127.0.0.1, uses its own temp SQLite file and REDIS_PREFIX, and prints baseline, ours and the ratio.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandsBench } from './commands';
import { liveBench } from './live';
import { mixedBench } from './mixed';
import { projectionBench } from './projection';
import { readsBench } from './reads';
import { rebuildBench } from './rebuild';
import { rywBench } from './ryw';
import { soakBench } from './soak';
import type { Bench, BenchArgs } from './support/bench';
import { currentLoad, describeMachine, machineInfo } from './support/machine';
import { ROOT } from './support/processes';
import { BENCH_REDIS_URL } from './support/redis';
import { output, say } from './support/report';
import { topologiesBench } from './topologies';

const benches: Bench[] = [
  commandsBench,
  readsBench,
  liveBench,
  mixedBench,
  projectionBench,
  rywBench,
  topologiesBench,
  rebuildBench,
  soakBench,
];

const usage = () =>
  [
    'usage: npm run bench [-- <name> [options]]',
    '',
    ...benches.map(
      (b) => `  ${b.name.padEnd(11)} ${b.summary}${b.inDefault ? '' : ' (not in the default set)'}`,
    ),
    '',
    'options: --events N, --batch-size N, --repeat N (projection, rebuild); --minutes N, --rate N (soak);',
    '         --duration S (per round for commands and reads), --connections N (commands, mixed, reads);',
    '         --rounds N (commands, reads: the targets taken in turn N times); --log-level L (the service under',
    '         test; default info); --profile (CPU profile of the process under test, summarized at the end)',
  ].join('\n');

const parseArgs = (argv: string[]): { names: string[]; args: BenchArgs } => {
  const names: string[] = [];
  const args: BenchArgs = { profile: false, logLevel: 'info' };
  const numberAfter = (i: number, flag: string): number => {
    const value = Number(argv[i + 1]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} needs a positive number`);
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--profile') args.profile = true;
    else if (arg === '--events') args.events = numberAfter(i++, arg);
    else if (arg === '--batch-size') args.batchSize = numberAfter(i++, arg);
    else if (arg === '--repeat') args.repeat = numberAfter(i++, arg);
    else if (arg === '--rounds') args.rounds = numberAfter(i++, arg);
    else if (arg === '--minutes') args.minutes = numberAfter(i++, arg);
    else if (arg === '--duration') args.duration = numberAfter(i++, arg);
    else if (arg === '--connections') args.connections = numberAfter(i++, arg);
    else if (arg === '--rate') args.rate = numberAfter(i++, arg);
    else if (arg === '--log-level') args.logLevel = argv[++i] ?? 'info';
    else if (arg === '--help' || arg === '-h') throw new Error(usage());
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}\n${usage()}`);
    else names.push(arg);
  }
  for (const name of names) {
    if (!benches.some((b) => b.name === name)) throw new Error(`unknown benchmark "${name}"\n${usage()}`);
  }
  return { names, args };
};

/** Keeps what this run printed in bench/results/ (gitignored): RESULTS.md is written from these. */
const saveOutput = (names: string[]) => {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${names.join('+')}.md`);
  writeFileSync(file, `${output.join('\n')}\n`);
  process.stderr.write(`output saved to ${file}\n`);
};

const main = async () => {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  const selected = parsed.names.length
    ? benches.filter((b) => parsed.names.includes(b.name))
    : benches.filter((b) => b.inDefault);
  const started = Date.now();
  say(`# sluice bench: ${selected.map((b) => b.name).join(', ')}`);
  say(`command: npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`);
  say(`date: ${new Date().toISOString()}`);
  say(describeMachine(await machineInfo(BENCH_REDIS_URL)));
  let failed = 0;
  for (const bench of selected) {
    say(`\n## ${bench.name}: ${bench.summary}`);
    say(`(load average (1 min) before: ${currentLoad()})\n`);
    const benchStarted = Date.now();
    try {
      await bench.run(parsed.args);
    } catch (error) {
      failed += 1;
      say(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    say(`(${bench.name} took ${((Date.now() - benchStarted) / 1000).toFixed(0)} s)`);
  }
  say(`\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s${failed ? `, ${failed} failed` : ''}`);
  saveOutput(selected.map((b) => b.name));
  process.exit(failed ? 1 : 0);
};

void main();

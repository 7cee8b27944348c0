// Issue 4 (performance): rebuild throughput. A child process runs the four ProjectionRunners as the service
// does; once the active generations are caught up, a rebuild of all four is requested (requestRebuild, what
// the admin API asks for) and timed until each new generation is the active one. Peak RSS says whether
// memory stays bounded (nothing buffers the whole stream).
import { statSync } from 'node:fs';
import { orderProjections as allProjections } from '../src/orders';
import { type Bench, profilingFor, reportProfile } from './support/bench';
import { cpuBetween, type Line, runCatchUpWorker } from './support/catch-up';
import { baselineRows, hsetBaseline, strictest, versus } from './support/hset-baseline';
import { prefilledStoreCopy } from './support/prefill';
import { benchPrefix, cleanUpPrefix } from './support/redis';
import { fmtInt, fmtMiB, fmtMs, note, say, table } from './support/report';

const DEFAULT_EVENTS = 200_000;

export const rebuildBench: Bench = {
  name: 'rebuild',
  summary: `rebuild of all four projections into new generations (default ${DEFAULT_EVENTS / 1000}k events; --events N)`,
  inDefault: true,
  run: async (args) => {
    const events = args.events ?? DEFAULT_EVENTS;
    const repeat = args.repeat ?? 3;
    const store = await prefilledStoreCopy(events);
    const prefix = benchPrefix('rebuild');
    const profiling = profilingFor(args, 'rebuild-worker');
    try {
      if (store.prefillMs !== undefined)
        say(`(prefilled ${fmtInt(events)} events in ${fmtMs(store.prefillMs)}; cached)`);
      say(
        `store: ${fmtInt(events)} order events (SQLite, ${fmtMiB(statSync(store.path).size)}); a child process runs ` +
          `the four ProjectionRunners (lease 5 s, batch size ${args.batchSize ?? '1000 (default)'}); phase 1: ` +
          'generation 1 catches up from ' +
          'scratch; phase 2: requestRebuild for all four, timed until each new generation is active; phase 3: ' +
          `the same for ${allProjections[0]!.name} alone, ${repeat} times`,
      );
      const before = await hsetBaseline(benchPrefix('rebuild-hset'));
      note(`rebuild: ${fmtInt(events)} events`);
      const result = await runCatchUpWorker({
        storePath: store.path,
        prefix,
        projections: allProjections.map((p) => p.name),
        mode: 'rebuild',
        nodeArgs: profiling.nodeArgs,
        ...(args.batchSize ? { batchSize: args.batchSize } : {}),
        repeat,
        sampleEveryMs: 500,
      });
      const after = await hsetBaseline(benchPrefix('rebuild-hset'));
      const hset = strictest(before, after);
      const ready = result.lines.find((l) => l.msg === 'ready');
      const catchUp = result.lines.find((l) => l.msg === 'main-caught-up');
      const rebuilt = result.lines.filter((l) => l.msg === 'rebuilt');
      const rows: Array<Record<string, string>> = [];
      if (catchUp) {
        const perSec = events / (Number(catchUp.ms) / 1000);
        rows.push({
          phase: '1: catch-up, generation 1, all four',
          time: fmtMs(Number(catchUp.ms)),
          'events/s': `${fmtInt(perSec)} (${fmtInt(perSec * allProjections.length)} applies/s)`,
          ...versus(perSec * allProjections.length, hset),
          ...cpuBetween(ready, catchUp, Number(catchUp.ms)),
        });
      }
      const phaseRow = (phase: string, label: string, previous: Line | undefined): number | undefined => {
        const lines = rebuilt.filter((l) => l.phase === phase);
        const done = result.lines.find((l) => l.msg === 'phase-done' && l.phase === phase);
        const unlinked = result.lines.find((l) => l.msg === 'unlinked' && l.phase === phase);
        if (lines.length === 0 || done === undefined) return undefined;
        // The runner notices a request on its next lease tick (up to 1 s): throughput counts from then.
        const noticed = Math.min(...lines.map((l) => Number(l.noticedMs)));
        const ms = Math.max(...lines.map((l) => Number(l.ms))) - noticed;
        const perSec = events / (ms / 1000);
        rows.push({
          phase: label,
          time: `${fmtMs(ms)} (+ ${fmtMs(noticed)} until the runner noticed the request)`,
          'events/s':
            lines.length > 1
              ? `${fmtInt(perSec)} (${fmtInt(perSec * lines.length)} applies/s)`
              : fmtInt(perSec),
          ...versus(perSec * lines.length, hset),
          ...cpuBetween(previous, done, Number(done.ms)),
          // From the flip to the replaced generation gone: 2 s grace, then SCAN + UNLINK in the background.
          'old generation unlinked': unlinked
            ? `${fmtMs(Number(unlinked.ms) - Number(done.ms))} after`
            : 'n/a',
        });
        return perSec;
      };
      phaseRow('all', '2: rebuild all four at once → new generations', catchUp);
      // Phase 3 starts once phase 2's replaced generations are unlinked (it does not pay for that clean-up),
      // and each of its runs once the one before it is unlinked.
      const alone: number[] = [];
      let previous = result.lines.find((l) => l.msg === 'unlinked' && l.phase === 'all');
      for (let run = 1; run <= repeat; run++) {
        const phase = `alone-${run}`;
        const perSec = phaseRow(
          phase,
          `3.${run}: rebuild ${allProjections[0]!.name} alone (one admin call)`,
          previous,
        );
        if (perSec !== undefined) alone.push(perSec);
        previous = result.lines.find((l) => l.msg === 'unlinked' && l.phase === phase);
      }
      if (alone.length > 1) {
        const best = Math.max(...alone);
        rows.push({
          phase: `3: ${allProjections[0]!.name} alone, best of ${alone.length} (the limit's statistic)`,
          'events/s': fmtInt(best),
          ...versus(best, hset),
        });
      }
      const samples = result.rssSamples.map(([, rss]) => rss);
      say(table(baselineRows(before, after)));
      say('');
      say(table(rows));
      say(
        `memory of the projector process: peak RSS ${fmtMiB(result.peakRssBytes)} (getrusage maxRSS); ` +
          `VmRSS sampled every 500 ms: first ${fmtMiB(samples[0] ?? NaN)}, max ${fmtMiB(Math.max(...samples))}, ` +
          `last ${fmtMiB(samples.at(-1) ?? NaN)} (${samples.length} samples); store file ${fmtMiB(statSync(store.path).size)}`,
      );
      say(
        '(goal: rebuild ≥ 20 % of the pipelined HSET limit; ratios use the higher limit, before or after; an ' +
          '"apply" = one event applied to one projection)',
      );
      reportProfile(profiling.dir, 'the rebuild worker');
    } finally {
      await cleanUpPrefix(prefix);
      store.remove();
    }
  },
};

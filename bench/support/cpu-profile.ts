import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './processes';
import { sourceLineResolver } from './source-lines';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  where: string;
  selfMs: number;
  share: number;
}

type Resolve = ReturnType<typeof sourceLineResolver>;

/** "name file:line", with the original line quoted for our anonymous functions (tsx's names are lost). */
const placeOf = (node: ProfileNode, resolve: Resolve): string => {
  const { functionName, url, lineNumber, columnNumber } = node.callFrame;
  if (!url.startsWith('file://'))
    return url === '' ? functionName || '(anonymous)' : `${functionName} ${url}`;
  const path = new URL(url).pathname;
  const file = relative(ROOT, path);
  const mapped = path.endsWith('.ts') || (path.endsWith('.js') && !path.includes('/node_modules/'));
  const original = mapped ? resolve(path, lineNumber, columnNumber) : undefined;
  if (original === undefined) return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
  const source = relative(ROOT, original.source);
  return functionName
    ? `${functionName} ${source}:${original.line}`
    : `(anonymous) ${source}:${original.line} \`${original.code}\``;
};

export interface ProfileSummary {
  /** Self time per function, biggest first. */
  functions: HotSpot[];
  /** Self time per file (node_modules per package). */
  files: HotSpot[];
  /** Time inside our own named functions (src/, compiled to dist/), callees included: where our code spends. */
  ours: HotSpot[];
  totalMs: number;
}

const isOurs = (node: ProfileNode): boolean =>
  node.callFrame.functionName !== '' &&
  /\/(src|dist)\//.test(node.callFrame.url) &&
  !node.callFrame.url.includes('node_modules');

/** Inclusive time of each of our named functions, counted once per stack even when it recurses. */
const inclusiveOfOurs = (
  profile: CpuProfile,
  selfById: Map<number, number>,
  resolve: Resolve,
): Map<string, number> => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  const walk = (id: number, open: Set<string>): number => {
    const node = byId.get(id);
    if (!node) return 0;
    const place = isOurs(node) ? placeOf(node, resolve) : undefined;
    const entered = place !== undefined && !open.has(place);
    if (entered) open.add(place);
    let total = selfById.get(id) ?? 0;
    for (const child of node.children ?? []) total += walk(child, open);
    if (entered) {
      open.delete(place);
      totals.set(place, (totals.get(place) ?? 0) + total);
    }
    return total;
  };
  const root = profile.nodes[0];
  if (root) walk(root.id, new Set());
  return totals;
};

/** Self time per function (and per file) of a V8 .cpuprofile, and inclusive time of our functions. */
export const summarizeProfile = (path: string, top = 15): ProfileSummary => {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const resolve = sourceLineResolver();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, number>();
  const fileUs = new Map<string, number>();
  const selfById = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    if (!node) return;
    totalUs += delta;
    selfById.set(id, (selfById.get(id) ?? 0) + delta);
    const place = placeOf(node, resolve);
    selfUs.set(place, (selfUs.get(place) ?? 0) + delta);
    const url = node.callFrame.url;
    const file = url.startsWith('file://')
      ? relative(ROOT, new URL(url).pathname).replace(
          /node_modules\/((?:@[^/]+\/)?[^/]+)\/.*/,
          'node_modules/$1',
        )
      : url || `(${node.callFrame.functionName || 'native'})`;
    fileUs.set(file, (fileUs.get(file) ?? 0) + delta);
  });
  const rank = (map: Map<string, number>): HotSpot[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([where, us]) => ({ where, selfMs: us / 1000, share: totalUs > 0 ? us / totalUs : 0 }));
  return {
    functions: rank(selfUs),
    files: rank(fileUs),
    ours: rank(inclusiveOfOurs(profile, selfById, resolve)),
    totalMs: totalUs / 1000,
  };
};

/** The main-thread profile in a --cpu-prof dir (the largest file: worker threads write small ones). */
export const mainProfileIn = (dir: string): string | undefined => {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ f, size: readFileSync(join(dir, f)).length }));
  files.sort((a, b) => b.size - a.size);
  return files[0] ? join(dir, files[0].f) : undefined;
};

// Maps a CPU profile's positions back to the TypeScript line they came from, so the report can name and
// quote it. The service runs compiled (dist/*.js, each with its .js.map beside it); bench workers and
// baselines run through tsx, which keeps each transpiled file with its source map in its cache directory.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';

type Segment = [generatedColumn: number, sourceLine: number];

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes a source map's `mappings` into, per generated line, [generated column, original line] pairs. */
const decodeMappings = (mappings: string): Segment[][] => {
  const lines: Segment[][] = [];
  let sourceLine = 0;
  for (const lineText of mappings.split(';')) {
    const segments: Segment[] = [];
    let column = 0;
    for (const segmentText of lineText.split(',')) {
      if (segmentText === '') continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segmentText) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0] ?? 0;
      if (fields.length >= 4) {
        sourceLine += fields[2]!;
        segments.push([column, sourceLine]);
      }
    }
    lines.push(segments);
  }
  return lines;
};

interface CachedMap {
  lines: Segment[][];
  /** The original file the map points at. */
  source: string;
}

/** The source map tsc wrote beside a compiled file (dist/x.js → dist/x.js.map → src/x.ts). */
const compiledMapOf = (file: string): CachedMap | undefined => {
  const mapFile = `${file}.map`;
  if (!existsSync(mapFile)) return undefined;
  const map = JSON.parse(readFileSync(mapFile, 'utf8')) as { mappings: string; sources: string[] };
  const source = map.sources[0];
  if (source === undefined) return undefined;
  return { lines: decodeMappings(map.mappings), source: resolvePath(dirname(mapFile), source) };
};

/** The newest tsx cache entry for each source file (the version that ran most recently). */
const loadTsxMaps = (): Map<string, { path: string; mtime: number }> => {
  const dir = join(tmpdir(), `tsx-${process.getuid?.() ?? 0}`);
  const newest = new Map<string, { path: string; mtime: number }>();
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return newest;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    try {
      const text = readFileSync(path, 'utf8');
      const source = /"sources":\["([^"]+)"\]/.exec(text)?.[1];
      if (source === undefined) continue;
      const mtime = statSync(path).mtimeMs;
      if ((newest.get(source)?.mtime ?? -1) < mtime) newest.set(source, { path, mtime });
    } catch {}
  }
  return newest;
};

/** Maps (file, generated line, column) of a compiled or tsx-run file to its original file, line and code. */
export const sourceLineResolver = () => {
  const entries = loadTsxMaps();
  const maps = new Map<string, CachedMap | undefined>();
  const mapOf = (file: string): CachedMap | undefined => {
    if (!maps.has(file)) {
      const entry = entries.get(file);
      try {
        if (file.endsWith('.js')) maps.set(file, compiledMapOf(file));
        else {
          const cached =
            entry && (JSON.parse(readFileSync(entry.path, 'utf8')) as { map?: { mappings: string } });
          maps.set(
            file,
            cached?.map ? { lines: decodeMappings(cached.map.mappings), source: file } : undefined,
          );
        }
      } catch {
        maps.set(file, undefined);
      }
    }
    return maps.get(file);
  };
  return (
    file: string,
    line: number,
    column: number,
  ): { source: string; line: number; code: string } | undefined => {
    const map = mapOf(file);
    const segments = map?.lines[line];
    if (!segments || segments.length === 0) return undefined;
    let found = segments[0]!;
    for (const segment of segments) {
      if (segment[0] > column) break;
      found = segment;
    }
    const source = map!.source;
    try {
      const code = readFileSync(source, 'utf8').split('\n')[found[1]]?.trim() ?? '';
      return { source, line: found[1] + 1, code: code.length > 60 ? `${code.slice(0, 57)}...` : code };
    } catch {
      return { source, line: found[1] + 1, code: '' };
    }
  };
};

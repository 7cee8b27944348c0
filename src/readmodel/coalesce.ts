import type { RedisWrite, RedisWriteCommand } from './projection.js';

/**
 * Commands whose two calls on one key equal one call with both argument lists, in order: HSET (a later
 * field wins), ZADD (a later score wins), and the set-like adds and removes.
 */
const FOLDABLE: ReadonlySet<RedisWriteCommand> = new Set(['HSET', 'ZADD', 'ZREM', 'SADD', 'SREM', 'HDEL']);

const everyOther = (args: string[], from: number): string[] => {
  const picked: string[] = [];
  for (let i = from; i < args.length; i += 2) picked.push(args[i]!);
  return picked;
};

/** The fields or members a write touches; undefined when it touches the whole key (DEL, SET, INCRBY…). */
const touchedBy = ({ command, args }: RedisWrite): string[] | undefined => {
  switch (command) {
    case 'HSET':
      return everyOther(args, 0);
    case 'ZADD':
      return everyOther(args, 1);
    case 'HDEL':
    case 'ZREM':
    case 'SADD':
    case 'SREM':
      return args;
    case 'HINCRBY':
      return [args[0]!];
    case 'ZINCRBY':
      return [args[1]!];
    default:
      return undefined;
  }
};

/** What the batch has written to one key so far. */
interface KeyHistory {
  /** The latest write of each foldable command: later writes of that command may join it. */
  latest: Map<RedisWriteCommand, { write: RedisWrite; seq: number }>;
  /** The order number of the last write that touched each field or member. */
  lastTouch: Map<string, number>;
  /** The order number of the last write that touched the whole key. */
  wholeKey: number;
}

/** No write placed after `seq` touched any of `members`. */
const untouchedSince = (history: KeyHistory, members: string[], seq: number): boolean => {
  for (const member of members) if ((history.lastTouch.get(member) ?? -1) > seq) return false;
  return true;
};

/**
 * Folds a batch's writes into fewer, wider ones. A batch is applied in one atomic script, so nobody sees
 * the state between two of its writes; what matters is the state after the last one. A write may join the
 * batch's latest earlier write of the same foldable command on the same key, if no write in between
 * touched any of its fields or members (writes on different members commute: a ZREM of one order and a
 * ZADD of another give the same set in either order). Writes to other keys never matter: none of these
 * commands reads or touches another key. So many orders' `ZADD`s and `ZREM`s on one index become one of
 * each, and an order's `HSET`s in one batch become one.
 *
 * Folded writes are mutated in place (they belong to the batch). A write Redis refuses is parked with the
 * position of the first event folded into it.
 */
export class WriteCoalescer {
  private readonly keys = new Map<string, KeyHistory>();
  /** field → index of its value in a folded HSET's args, built on its first fold. */
  private readonly hashFields = new Map<RedisWrite, Map<string, number>>();
  private seq = 0;

  constructor(
    /** Most arguments a folded write may reach (the apply script's unpack limit). */
    private readonly maxArguments: number,
  ) {}

  /** True when `write` was folded into an earlier one and must not be sent itself. */
  fold(write: RedisWrite): boolean {
    let history = this.keys.get(write.key);
    if (history === undefined) {
      history = { latest: new Map(), lastTouch: new Map(), wholeKey: -1 };
      this.keys.set(write.key, history);
    }
    const touched = touchedBy(write);
    const target = FOLDABLE.has(write.command) ? history.latest.get(write.command) : undefined;
    if (
      target !== undefined &&
      touched !== undefined &&
      target.write.args.length + write.args.length <= this.maxArguments &&
      history.wholeKey < target.seq &&
      untouchedSince(history, touched, target.seq)
    ) {
      if (write.command === 'HSET') this.foldFields(target.write, write.args);
      else for (const arg of write.args) target.write.args.push(arg);
      for (const member of touched) history.lastTouch.set(member, target.seq);
      return true;
    }
    const seq = this.seq++;
    if (touched === undefined) {
      history.wholeKey = seq;
      history.latest.clear();
      history.lastTouch.clear();
    } else {
      for (const member of touched) history.lastTouch.set(member, seq);
      if (FOLDABLE.has(write.command)) history.latest.set(write.command, { write, seq });
    }
    return false;
  }

  /** HSET field/value pairs: a field already set by the folded write takes the later value in place. */
  private foldFields(into: RedisWrite, pairs: string[]): void {
    let fields = this.hashFields.get(into);
    if (fields === undefined) {
      fields = new Map();
      for (let i = 0; i < into.args.length; i += 2) fields.set(into.args[i]!, i + 1);
      this.hashFields.set(into, fields);
    }
    for (let i = 0; i < pairs.length; i += 2) {
      const field = pairs[i]!;
      const at = fields.get(field);
      if (at !== undefined) into.args[at] = pairs[i + 1]!;
      else {
        fields.set(field, into.args.length + 1);
        into.args.push(field, pairs[i + 1]!);
      }
    }
  }
}

/**
 * Faults a projector must not retry: its generation cannot be trusted, and only a rebuild (a new generation
 * built from the store) replaces it. Retrying, or starting again from 0, would apply events twice or skip them.
 */
export abstract class GenerationUntrusted extends Error {
  abstract readonly failureCause: 'lost-state' | 'store-behind';
}

/** A pointer or checkpoint that must exist is gone while the data it describes is there (eviction, a hand). */
export class ReadModelStateLost extends GenerationUntrusted {
  override readonly name = 'ReadModelStateLost';
  readonly failureCause = 'lost-state';
}

/** The generation has applied events the store no longer has: the store was reset or restored from a backup. */
export class StoreBehindReadModel extends GenerationUntrusted {
  override readonly name = 'StoreBehindReadModel';
  readonly failureCause = 'store-behind';
}

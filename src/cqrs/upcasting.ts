import type { RecordedEvent } from '../eventstore/index.js';

/** Turns the data of version `n` into the data of version `n + 1`. */
export type UpcastStep = (data: unknown) => unknown;

export interface EventSchema {
  /** The version new events are written with. */
  current: number;
  /** `steps[n]` upcasts version n to n + 1, for every n below `current` that was ever written. */
  steps?: Record<number, UpcastStep>;
}

export type EventSchemas = Record<string, EventSchema>;

/** Events written before versioning existed carry no schemaVersion: they are version 1. */
export const schemaVersionOf = (event: Pick<RecordedEvent, 'metadata'>): number => {
  const version = event.metadata.schemaVersion;
  return typeof version === 'number' && Number.isInteger(version) && version >= 1 ? version : 1;
};

/**
 * Builds the function every reader (aggregate load, projections) passes events through, so stored
 * events are never rewritten and code only ever sees the current shape.
 */
export const createUpcaster =
  (schemas: EventSchemas) =>
  (event: RecordedEvent): RecordedEvent => {
    const schema = schemas[event.type];
    if (schema === undefined) return event;
    let version = schemaVersionOf(event);
    if (version >= schema.current) return event;
    let data = event.data;
    while (version < schema.current) {
      const step = schema.steps?.[version];
      if (step === undefined) throw new Error(`no upcaster for ${event.type} v${version} → v${version + 1}`);
      data = step(data);
      version += 1;
    }
    return { ...event, data, metadata: { ...event.metadata, schemaVersion: version } };
  };

import { z } from 'zod';
import { decimalInteger } from '../cqrs/index.js';
import { parseParams } from './request.js';

const POSITION = /^\d{1,20}$/;
const VERSION = /^\d{1,16}$/;

const minPositionField = z
  .string()
  .regex(POSITION, 'must be a position as a decimal string')
  .optional()
  .meta({
    description:
      'Wait (up to CONSISTENCY_TIMEOUT_MS) until every projection read has processed this position.',
  });
const minVersionField = decimalInteger({ min: 0, max: Number.MAX_SAFE_INTEGER })
  .optional()
  .meta({ description: 'Wait (up to CONSISTENCY_TIMEOUT_MS) until the answer reflects this version.' });

export interface ConsistencyParams {
  minPosition?: string;
  minVersion?: number;
}

/**
 * The read-your-writes parameters of a query route: `minPosition`, and `minVersion` where the route names a
 * version. `fields` describe them (OpenAPI); `parse` answers what the schema answers, but checks a value it
 * accepts with two regexes instead of running the schema (a fresh read is a hot path); anything else goes
 * to the schema, so a bad value gets the schema's 400 word for word.
 */
export const consistencyParams = (withVersion: boolean) => {
  const fields = {
    minPosition: minPositionField,
    ...(withVersion ? { minVersion: minVersionField } : {}),
  };
  const schema = z.object(fields);
  const bySchema = (raw: Record<string, string>) => parseParams(schema, raw, 'query') as ConsistencyParams;
  const parse = (raw: Record<string, string>): ConsistencyParams => {
    const minPosition = raw.minPosition;
    const minVersion = withVersion ? raw.minVersion : undefined;
    if (minPosition !== undefined && !POSITION.test(minPosition)) return bySchema(raw);
    if (minVersion === undefined) return { minPosition };
    const version = VERSION.test(minVersion) ? Number(minVersion) : Number.NaN;
    if (!(version <= Number.MAX_SAFE_INTEGER)) return bySchema(raw);
    return { minPosition, minVersion: version };
  };
  return { fields, schema, parse };
};

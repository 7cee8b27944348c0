import { z } from 'zod';
import { type FieldError, ValidationFailed } from './errors.js';

/** `['items', 0, 'quantity']` → `items.0.quantity`; the body itself is the empty path. */
const dottedPath = (path: readonly PropertyKey[]): string => path.map(String).join('.');

/** Every issue as a field error; an unknown key is reported at its own path so a client sees which one. */
const allFieldErrors = (error: z.core.$ZodError): FieldError[] =>
  error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: dottedPath([...issue.path, key]), message: 'unknown field' }))
      : [{ path: dottedPath(issue.path), message: issue.message }],
  );

/** One entry per bad field (its first problem), so a client can put one message beside each input. */
export const fieldErrorsOf = (error: z.core.$ZodError): FieldError[] => {
  const byPath = new Map<string, FieldError>();
  for (const fieldError of allFieldErrors(error)) {
    if (!byPath.has(fieldError.path)) byPath.set(fieldError.path, fieldError);
  }
  return [...byPath.values()];
};

/** The 400 a client gets for a body that fails its schema. */
export const validationFailedFrom = (error: z.core.$ZodError, subject = 'request body'): ValidationFailed => {
  const errors = fieldErrorsOf(error);
  const paths = errors.map((e) => e.path || '(body)');
  return new ValidationFailed(`the ${subject} is invalid: ${paths.join(', ')}`, errors);
};

/** Parses with a schema and answers the schema's output, or throws ValidationFailed listing every bad field. */
export const parseOrThrow = <S extends z.core.$ZodType>(
  schema: S,
  input: unknown,
  subject?: string,
): z.core.output<S> => {
  const result = z.safeParse(schema, input);
  if (!result.success) throw validationFailedFrom(result.error, subject);
  return result.data;
};

/** A query parameter of decimal digits only (no `0x10`, `1e3`, ` 7` or `+7`), as a number within bounds. */
export const decimalInteger = ({ min, max }: { min: number; max: number }) =>
  z
    .string()
    .regex(/^\d+$/, 'must be decimal digits')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

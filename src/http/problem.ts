import { type FieldError, MethodNotAllowed, ProblemError } from '../cqrs/index.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
}

export const problemResponse = (problem: ProblemBody, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8`, ...headers },
  });

const INTERNAL = 'https://sluice.dev/problems/internal';

/** The problem+json body of a ProblemError. */
export const problemBodyOf = (error: ProblemError, instance?: string): ProblemBody => ({
  type: error.type,
  title: error.title,
  status: error.status,
  detail: error.message,
  ...(instance ? { instance } : {}),
  ...(error.errors && error.errors.length > 0 ? { errors: error.errors } : {}),
});

/** Turns any error into problem+json; unexpected errors become a 500 without their details. */
export const toProblem = (error: unknown, instance?: string): Response => {
  if (error instanceof ProblemError) {
    const headers: Record<string, string> = {};
    if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
    if (error instanceof MethodNotAllowed) headers.allow = error.allow.join(', ');
    return problemResponse(problemBodyOf(error, instance), headers);
  }
  return problemResponse({
    type: INTERNAL,
    title: 'Internal server error',
    status: 500,
    detail: 'an unexpected error occurred; it has been logged',
    ...(instance ? { instance } : {}),
  });
};

import type * as z from '../zod.ts';
import { ValidationError, type FieldIssue } from '../errors.ts';

/**
 * Parses `value` with `schema`, turning zod issues into a 400 `validation_error` with `fields`.
 * An unknown key (a strict object: every query) is named in `fields` itself, one entry per key,
 * so the caller sees which parameter to drop.
 */
export function validate<S extends z.ZodMiniType>(schema: S, value: unknown, prefix?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields: FieldIssue[] = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: fieldPath([...issue.path, key], prefix), message: 'is not a known parameter' }))
      : [{ path: fieldPath(issue.path, prefix), message: issue.message }],
  );
  throw new ValidationError(fields);
}

function fieldPath(path: PropertyKey[], prefix: string | undefined): string {
  const joined = path.map(String).join('.');
  return prefix ? (joined ? `${prefix}.${joined}` : prefix) : joined;
}

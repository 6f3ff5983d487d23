import type { z } from 'zod';
import { ValidationError, type FieldIssue } from '../errors.ts';

/** Parses `value` with `schema`, turning zod issues into a 400 `validation_error` with `fields`. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, prefix?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields: FieldIssue[] = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return { path: prefix ? (path ? `${prefix}.${path}` : prefix) : path, message: issue.message };
  });
  throw new ValidationError(fields);
}

/**
 * The committed API description and what is generated from it are current: `openapi.json`, the
 * typed client's types and the Markdown reference are exactly what `npm run openapi` writes from
 * the contracts now. And the description is a valid OpenAPI 3.1 document.
 */
import { readFile } from 'node:fs/promises';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { routes } from '../../../shared/routes.ts';
import { generatedFiles, sandboxDocument } from '../../../infra/api-description/generated-files.ts';

describe('the API description', () => {
  it('is committed as generated (run `npm run openapi` after changing a contract)', async () => {
    for (const file of await generatedFiles()) {
      const committed = await readFile(file.path, 'utf8').catch(() => '');
      expect(committed === file.content, `${file.path} is out of date: run npm run openapi`).toBe(true);
    }
  }, 60_000);

  it('passes an OpenAPI 3.1 validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(sandboxDocument() as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    // It validated as 3.1, not an earlier version's schema.
    expect(validator.version).toBe('3.1');
  });

  it('describes every route of the table, once, with its credential and its error codes', () => {
    const document = sandboxDocument() as { paths: Record<string, Record<string, { operationId: string; security: object[]; responses: Record<string, unknown> }>> };
    const described = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    expect(described.sort()).toEqual(routes.map((route) => `${route.method} ${route.path}`).sort());
    for (const route of routes) {
      const operation = document.paths[route.path]![route.method.toLowerCase()]!;
      expect(operation.operationId).toBe(route.operation.id);
      expect(operation.security).toEqual(route.credential === 'public' ? [] : [{ [route.credential]: [] }]);
      expect(Object.keys(operation.responses)).toContain(String(route.operation.status));
      expect(Object.keys(operation.responses)).toContain('500');
    }
    expect(new Set(routes.map((route) => route.operation.id)).size).toBe(routes.length);
  });
});

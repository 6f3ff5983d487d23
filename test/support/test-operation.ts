/**
 * A contract for wrapper tests: an operation of the given credential with the given schemas and
 * status (default 200), answering any body, so a test exercises the HTTP wrapper on its own.
 */
import * as z from '../../shared/zod.ts';
import { operation, type Credential, type Operation, type QuerySchema } from '../../shared/contracts/operation.ts';
import type { PathIds } from '../../shared/http/path-ids.ts';

export function testOperation<const C extends Credential, B extends z.ZodMiniType | undefined = undefined, Q extends QuerySchema | undefined = undefined, const N extends string = never>(
  credential: C,
  spec: { body?: B; query?: Q; params?: PathIds<N>; status?: number },
): Operation<C, B, Q, N, z.ZodMiniUnknown> {
  return operation({
    id: 'testOperation',
    method: 'POST',
    path: '/v1/test',
    credential,
    tag: 'Test',
    summary: 'A wrapper test',
    status: spec.status ?? 200,
    response: z.unknown(),
    errors: [],
    ...(spec.body ? { body: spec.body } : {}),
    ...(spec.query ? { query: spec.query } : {}),
    ...(spec.params ? { params: spec.params } : {}),
  } as Operation<C, B, Q, N, z.ZodMiniUnknown>);
}

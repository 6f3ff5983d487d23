import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from '../../../shared/zod.ts';
import { idempotencyInProgress } from '../../../shared/db/idempotency-repository.ts';
import { ApiError, ValidationError } from '../../../shared/errors.ts';
import { operationHandler } from '../../../shared/http/handler.ts';
import { testOperation } from '../../support/test-operation.ts';
import { pathIds } from '../../../shared/http/path-ids.ts';
import { withKeyGrant } from '../../../shared/crypto/local-key-policy.ts';
import { respond } from '../../../shared/http/responses.ts';
import { logsWhile } from '../../support/capture-logs.ts';
import { apiEvent, lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';

const ddb = mockClient(DynamoDBDocumentClient);

const Body = z.object({ name: z.string().check(z.minLength(1)), limits: z.optional(z.object({ daily: z.string().check(z.regex(/^\d+$/)) })) });

describe('httpHandler', () => {
  beforeEach(() => ddb.reset());

  it('validates the body and renders 400 validation_error with field paths', async () => {
    const handler = operationHandler(testOperation('business', { body: Body }), async ({ body }) => body);
    const result = await handler(apiEvent({ method: 'POST', body: { name: '', limits: { daily: 'x' } } }), lambdaContext);
    expect(result.statusCode).toBe(400);
    const { error } = parseBody(result);
    expect(error.code).toBe('validation_error');
    expect(error.request_id).toBe(result.headers!['x-request-id']);
    expect(error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['limits.daily', 'name']);
  });

  it('answers 400 invalid_json for a body that is not JSON', async () => {
    const handler = operationHandler(testOperation('business', { body: Body }), async ({ body }) => body);
    const result = await handler(apiEvent({ method: 'POST', rawBody: '{"name":' }), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(parseBody(result).error.code).toBe('invalid_json');
  });

  it('passes the caller and parsed input to the domain call and returns its result with the default status', async () => {
    const handler = operationHandler(testOperation('business', { body: Body, status: 201 }), async ({ body, auth }) => ({ got: body.name, business: auth.businessId }));
    const result = await handler(apiEvent({ method: 'POST', body: { name: 'a' } }), lambdaContext);
    expect(result.statusCode).toBe(201);
    expect(result.headers!['x-request-id']).toBeTruthy();
    expect(parseBody(result)).toEqual({ got: 'a', business: TEST_BUSINESS_ID });
  });

  it('lets a handler choose status and headers', async () => {
    const handler = operationHandler(testOperation('business', {}), async () => respond(200, { ok: true }, { 'cache-control': 'no-store' }));
    const result = await handler(apiEvent(), lambdaContext);
    expect(result.headers!['cache-control']).toBe('no-store');
  });

  it('renders typed domain errors once into the API.md error body', async () => {
    const handler = operationHandler(testOperation('business', {}), async () => {
      throw new ApiError('card_terminated');
    });
    const result = await handler(apiEvent(), lambdaContext);
    expect(result.statusCode).toBe(409);
    expect(parseBody(result)).toEqual({
      error: { code: 'card_terminated', message: 'The card is terminated.', request_id: result.headers!['x-request-id'] },
    });
  });

  it('turns an unexpected error into a 500 without internals', async () => {
    const handler = operationHandler(testOperation('business', {}), async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.1:443 secret-table-name');
    });
    const result = await handler(apiEvent(), lambdaContext);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toMatch(/ECONNREFUSED|secret-table-name/);
    expect(parseBody(result).error).toMatchObject({ code: 'internal_error', request_id: result.headers!['x-request-id'] });
  });

  it('refuses a request without a business identity (defence in depth behind the authorizer)', async () => {
    const handler = operationHandler(testOperation('business', {}), async () => 'never');
    const result = await handler(apiEvent({ authorizer: null }), lambdaContext);
    expect(result.statusCode).toBe(401);
    expect(parseBody(result).error.code).toBe('unauthorized');
  });

  it('refuses another kind of credential with 403 naming the kind the route needs (defence in depth behind the authorizers)', async () => {
    const never = async () => 'never';
    const cases = [
      { handler: operationHandler(testOperation('network', {}), never), authorizer: undefined, code: 'network_credential_required' },
      { handler: operationHandler(testOperation('chain', {}), never), authorizer: { credential: 'network', principal: 'net-1' }, code: 'chain_credential_required' },
      { handler: operationHandler(testOperation('network', {}), never), authorizer: { credential: 'chain', principal: 'chain-1' }, code: 'network_credential_required' },
      { handler: operationHandler(testOperation('business', {}), never), authorizer: { credential: 'chain', principal: 'chain-1' }, code: 'api_key_required' },
    ];
    for (const { handler, authorizer, code } of cases) {
      const result = await handler(apiEvent({ authorizer }), lambdaContext);
      expect(result.statusCode, code).toBe(403);
      expect(parseBody(result).error, code).toEqual({ code, message: expect.stringMatching(/^This route needs /), request_id: result.headers!['x-request-id'] });
    }
  });

  it('refuses a card network or chain watcher route without an identity with 401', async () => {
    for (const handler of [operationHandler(testOperation('network', {}), async () => 'never'), operationHandler(testOperation('chain', {}), async () => 'never')]) {
      const result = await handler(apiEvent({ authorizer: null }), lambdaContext);
      expect(result.statusCode).toBe(401);
      expect(parseBody(result).error.code).toBe('unauthorized');
    }
  });

  it('validates query parameters', async () => {
    const handler = operationHandler(testOperation('business', { query: z.object({ limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20) }) }), async ({ query }) => query);
    expect((await handler(apiEvent({ query: { limit: '0' } }), lambdaContext)).statusCode).toBe(400);
    expect(parseBody(await handler(apiEvent({ query: { limit: '5' } }), lambdaContext))).toEqual({ limit: 5 });
  });

  it('never logs the request body', async () => {
    const logged = await logsWhile(async () => {
      const handler = operationHandler(testOperation('business', { body: Body }), async () => {
        throw new Error('boom');
      });
      await handler(apiEvent({ method: 'POST', body: { name: 'SECRET-NAME-4111' } }), lambdaContext);
    });
    expect(logged).toContain('unhandled error');
    expect(logged).not.toContain('SECRET-NAME-4111');
  });
});

describe('ids in paths', () => {
  beforeEach(() => ddb.reset());

  const CARD_ID = '0190a3c4-0000-7000-8000-00000000c0de';
  const cardRoute = (id: string | undefined, extra: { body?: unknown; query?: Record<string, string> } = {}) =>
    apiEvent({
      method: 'POST',
      path: `/v1/cards/${id}/limits`,
      resource: '/v1/cards/{id}/limits',
      ...(id === undefined ? {} : { pathParameters: { id } }),
      ...extra,
    });

  it.each([
    ['not of the id format', 'not-an-id'],
    ['2,100 characters long', 'a'.repeat(2100)],
    ['65 characters long', `${CARD_ID}${'0'.repeat(29)}`],
    ['a UUID with a # suffix (a key separator)', `${CARD_ID}#SPEND`],
    ['a UUID with a NUL', `${CARD_ID}\u0000`],
    ['a UUID with a trailing newline', `${CARD_ID}\n`],
    ['unicode', 'ü'.repeat(36)],
    ['empty', ''],
    ['missing', undefined],
  ])('answers 404 <resource>_not_found for an id %s, before reading anything', async (_, id) => {
    const effect = vi.fn(async () => 'never');
    const handler = operationHandler(testOperation('business', { params: pathIds({ id: 'card' }) }), effect);
    const result = await handler(cardRoute(id), lambdaContext);
    expect(result.statusCode).toBe(404);
    expect(parseBody(result).error).toEqual({ code: 'card_not_found', message: 'No such card.', request_id: result.headers!['x-request-id'] });
    expect(effect).not.toHaveBeenCalled();
    expect(ddb.calls()).toHaveLength(0);
  });

  it('names the resource of the param in the 404', async () => {
    const handler = operationHandler(testOperation('network', { params: pathIds({ verification_id: 'verification' }) }), async () => 'never');
    const result = await handler(
      apiEvent({ method: 'POST', pathParameters: { verification_id: 'x' }, authorizer: { credential: 'network', principal: 'network-unit' } }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(404);
    expect(parseBody(result).error.code).toBe('verification_not_found');
  });

  it('passes a UUID through to the domain call', async () => {
    const handler = operationHandler(testOperation('business', { params: pathIds({ id: 'card' }) }), async ({ params }) => params);
    expect(parseBody(await handler(cardRoute(CARD_ID), lambdaContext))).toEqual({ id: CARD_ID });
  });

  it('judges the id before the query and the body: a malformed id is a 404 whatever else is wrong', async () => {
    const handler = operationHandler(testOperation('business', { params: pathIds({ id: 'card' }), body: Body }), async () => 'never');
    const result = await handler(cardRoute('x', { body: { name: '' }, query: { nope: '1' } }), lambdaContext);
    expect(result.statusCode).toBe(404);
  });
});

describe('query parameters', () => {
  const ListQuery = z.object({ status: z.optional(z.enum(['Active', 'Locked'])), limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20) });

  it('refuses an unknown parameter with 400 validation_error naming it in fields', async () => {
    const handler = operationHandler(testOperation('business', { query: ListQuery }), async ({ query }) => query);
    const result = await handler(apiEvent({ query: { status: 'Active', p_userid: 'x', sort: 'asc' } }), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(parseBody(result).error).toMatchObject({ code: 'validation_error' });
    expect(parseBody(result).error.fields).toEqual([
      { path: 'p_userid', message: 'is not a known parameter' },
      { path: 'sort', message: 'is not a known parameter' },
    ]);
  });

  it('refuses any parameter on a route that takes none', async () => {
    const handler = operationHandler(testOperation('business', {}), async () => ({ ok: true }));
    const result = await handler(apiEvent({ query: { limit: '5' } }), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(parseBody(result).error.fields).toEqual([{ path: 'limit', message: 'is not a known parameter' }]);
    expect((await handler(apiEvent(), lambdaContext)).statusCode).toBe(200);
  });

  it('still takes every parameter its schema knows', async () => {
    const handler = operationHandler(testOperation('business', { query: ListQuery }), async ({ query }) => query);
    expect(parseBody(await handler(apiEvent({ query: { status: 'Locked', limit: '5' } }), lambdaContext))).toEqual({ status: 'Locked', limit: 5 });
  });
});

describe('Idempotency-Key', () => {
  beforeEach(() => ddb.reset());

  const post = (body: unknown, key = 'key-1') =>
    apiEvent({ method: 'POST', path: '/v1/things', body, headers: { 'Idempotency-Key': key } });

  it('claims the key, runs the effect once and stores the response encrypted', async () => {
    ddb.on(PutCommand).resolves({});
    const effect = vi.fn(async () => ({ id: 'thing-1', email: 'someone@example.com' }));
    const handler = operationHandler(testOperation('business', { body: Body, status: 201 }), effect);
    const result = await handler(post({ name: 'a' }), lambdaContext);
    expect(result.statusCode).toBe(201);
    expect(effect).toHaveBeenCalledTimes(1);
    const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item!);
    expect(puts[0]).toMatchObject({ state: 'in_progress' });
    expect(puts[1]).toMatchObject({ state: 'completed', statusCode: 201 });
    expect(String(puts[1]!.responseBody)).not.toContain('someone@example.com');
  });

  it('replays the first response for the same key and body, byte for byte, without a second effect', async () => {
    ddb.on(PutCommand).resolves({});
    const effect = vi.fn(async () => ({ id: `thing-${effect.mock.calls.length}` }));
    const handler = operationHandler(testOperation('business', { body: Body, status: 201 }), effect);
    const first = await handler(post({ name: 'a' }), lambdaContext);
    const stored = ddb.commandCalls(PutCommand)[1]!.args[0].input.Item!;

    ddb.reset();
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    ddb.on(GetCommand).resolves({ Item: stored });
    const replay = await handler(post({ name: 'a' }), lambdaContext);
    expect(effect).toHaveBeenCalledTimes(1);
    expect(replay.statusCode).toBe(201);
    expect(replay.body).toBe(first.body);
    expect(replay.headers!['idempotent-replayed']).toBe('true');
  });

  it('answers 422 idempotency_key_reused for the same key with a different body', async () => {
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    ddb.on(GetCommand).resolves({ Item: { state: 'completed', requestHash: 'other', statusCode: 201, responseBody: '{}' } });
    const result = await operationHandler(testOperation('business', { body: Body }), async () => 'never')(post({ name: 'b' }), lambdaContext);
    expect(result.statusCode).toBe(422);
    expect(parseBody(result).error.code).toBe('idempotency_key_reused');
  });

  it('answers 422 idempotency_key_reused for a body that differs only in what the route ignores (found by the money model)', async () => {
    const effect = vi.fn(async () => ({ status: 'Locked' }));
    const lock = operationHandler(testOperation('business', {}), effect);
    const first = await lock(post({}), lambdaContext);
    expect(first.statusCode).toBe(200);
    const stored = ddb.commandCalls(PutCommand).at(-1)!.args[0].input.Item!;
    ddb.reset();
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    ddb.on(GetCommand).resolves({ Item: stored });
    expect((await lock(post({}), lambdaContext)).statusCode).toBe(200);
    const other = await lock(post({ amount: '0.03' }), lambdaContext);
    expect([other.statusCode, parseBody(other).error.code]).toEqual([422, 'idempotency_key_reused']);
    expect(effect).toHaveBeenCalledTimes(1);
  });

  it('takes a card number the route does not read without the card-number key: its row may not have it (found by a grant audit)', async () => {
    ddb.on(PutCommand).resolves({});
    const effect = vi.fn(async () => ({ reversed: true }));
    const reverse = operationHandler(testOperation('business', { body: Body }), effect);
    // The row of a route whose body takes no card number holds the idempotency key, not `pan`.
    const grant = { encrypt: [], decrypt: [], mac: ['idempotency'] };
    const sent = (number: string) => withKeyGrant(grant, () => reverse(post({ name: 'a', card_number: number }), lambdaContext));
    const first = await sent('3567720000001234');
    expect(first.statusCode, first.body).toBe(200);
    expect(effect).toHaveBeenCalledTimes(1);
    // The number is not in the fingerprint: another stray number is the same request, no stray number another.
    const stored = ddb.commandCalls(PutCommand).at(-1)!.args[0].input.Item!;
    ddb.reset();
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    ddb.on(GetCommand).resolves({ Item: stored });
    expect((await sent('3567720000005678')).statusCode).toBe(200);
    const without = await withKeyGrant(grant, () => reverse(post({ name: 'a' }), lambdaContext));
    expect([without.statusCode, parseBody(without).error.code]).toEqual([422, 'idempotency_key_reused']);
    expect(effect).toHaveBeenCalledTimes(1);
  });

  it('answers 409 while the first request is still running', async () => {
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    const { requestHash } = await import('../../../shared/http/request-hash.ts');
    ddb.on(GetCommand).resolves({ Item: { state: 'in_progress', requestHash: await requestHash('POST', '/v1/things', { name: 'a' }, 'redact') } });
    const result = await operationHandler(testOperation('business', { body: Body }), async () => 'never')(post({ name: 'a' }), lambdaContext);
    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('idempotency_request_in_progress');
  });

  /** The first answer for `key`, then its replay from the record the first one stored. */
  async function firstAndReplay(handler: ReturnType<typeof operationHandler>, body: unknown) {
    ddb.on(PutCommand).resolves({});
    const first = await handler(post(body), lambdaContext);
    const stored = ddb.commandCalls(PutCommand).at(-1)!.args[0].input.Item!;
    ddb.reset();
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    ddb.on(GetCommand).resolves({ Item: stored });
    const replay = await handler(post(body), lambdaContext);
    return { first, stored, replay };
  }

  it.each([
    new ApiError('user_not_found'),
    new ApiError('card_terminated'),
    new ApiError('insufficient_balance'),
  ])('keeps a refusal ($statusCode $code) as the key\'s answer and replays it: same status, same body, no second effect', async (refusal) => {
    const effect = vi.fn(async () => {
      throw refusal;
    });
    const { first, stored, replay } = await firstAndReplay(operationHandler(testOperation('business', { body: Body }), effect), { name: 'a' });
    expect(first.statusCode).toBe(refusal.statusCode);
    expect(parseBody(first).error).toEqual({ code: refusal.code, message: refusal.message, request_id: first.headers!['x-request-id'] });
    expect(stored).toMatchObject({ state: 'completed', statusCode: refusal.statusCode });
    expect(String(stored.responseBody)).not.toContain(refusal.code); // sealed like any stored answer

    expect(effect).toHaveBeenCalledTimes(1);
    expect(replay.statusCode).toBe(refusal.statusCode);
    // The first request's id stays in the body: a replay is the first response, byte for byte.
    expect(replay.body).toBe(first.body);
    expect(replay.headers!['idempotent-replayed']).toBe('true');
    expect(replay.headers!['x-request-id']).not.toBe(first.headers!['x-request-id']);
  });

  it('records a refusal whose transaction carried a completion item on its own: that item was never written', async () => {
    ddb.on(PutCommand).resolves({});
    const handler = operationHandler(testOperation('business', { body: Body, status: 201 }), async ({ idempotency }) => {
      // The effect's transaction (with this completion item) is cancelled by a business rule.
      idempotency!.completionItem({ id: 'never-committed' });
      throw new ApiError('insufficient_balance');
    });
    const result = await handler(post({ name: 'a' }), lambdaContext);
    expect(result.statusCode).toBe(422);
    const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(2);
    expect(puts[1]).toMatchObject({
      Item: { state: 'completed', statusCode: 422 },
      ConditionExpression: '#owner = :owner AND #state = :inProgress',
    });
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it.each([
    ['an unexpected failure (500)', new Error('boom'), 500],
    ['a throttled dependency (503)', new ApiError('service_unavailable'), 503],
    ['a validation error the effect found (400)', new ValidationError([{ path: 'amount', message: 'too many decimals' }]), 400],
    ['a lost claim (409 idempotency_request_in_progress)', idempotencyInProgress(), 409],
  ])('releases the key after %s, so a retry runs again', async (_, failure, status) => {
    ddb.on(PutCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});
    const handler = operationHandler(testOperation('business', { body: Body }), async () => {
      throw failure;
    });
    const result = await handler(post({ name: 'a' }), lambdaContext);
    expect(result.statusCode).toBe(status);
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(1);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(1); // the claim only
  });

  it('answers 409 idempotency_request_in_progress when the claim was lost before the refusal could be recorded', async () => {
    ddb.on(PutCommand).resolvesOnce({}).rejects(new ConditionalCheckFailedException({ message: 'not the owner', $metadata: {} }));
    const handler = operationHandler(testOperation('business', { body: Body }), async () => {
      throw new ApiError('user_not_found');
    });
    const result = await handler(post({ name: 'a' }), lambdaContext);
    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('idempotency_request_in_progress');
  });

  it('rejects an over-long key with 400', async () => {
    const result = await operationHandler(testOperation('business', { body: Body }), async () => 'never')(post({ name: 'a' }, 'k'.repeat(256)), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(parseBody(result).error.fields[0].path).toBe('Idempotency-Key');
  });
});

describe('a dependency that stays unavailable after the SDK retries', () => {
  const get = () => apiEvent({ method: 'GET', path: '/v1/things' });
  it.each([
    ['throttling', Object.assign(new Error('slow down'), { name: 'ThrottlingException' })],
    ['a lost response (timeout)', Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' })],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a 5xx of the AWS service', Object.assign(new Error('internal'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } })],
  ])('answers a retryable 503 for %s, revealing nothing of it', async (_, error) => {
    const result = await operationHandler(testOperation('business', {}), async () => {
      throw error;
    })(get(), lambdaContext);
    expect(result.statusCode).toBe(503);
    expect(parseBody(result).error.code).toBe('service_unavailable');
    expect(result.body).not.toMatch(/socket|ECONNRESET|internal|slow/);
  });

  it('still answers 500 for a bug', async () => {
    const result = await operationHandler(testOperation('business', {}), async () => {
      throw new TypeError('x is undefined');
    })(get(), lambdaContext);
    expect(result.statusCode).toBe(500);
  });
});

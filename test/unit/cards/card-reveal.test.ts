/**
 * Card reveal links through the exported, wrapped handlers, with DynamoDB answered by
 * aws-sdk-client-mock: what is stored (never the token), what the page answers and with which
 * headers, the one-time consumption, the audit event, and what reaches the logs (nothing secret).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as createRevealSession } from '../../../functions/cards/create-reveal-session.ts';
import { handler as getRevealPage } from '../../../functions/card-reveal/get-reveal-page.ts';
import { handler as revealCard } from '../../../functions/cards/get-card-full-details.ts';
import { revealOrigin } from '../../../shared/domain/card-reveal.ts';
import { captureLogs } from '../../support/capture-logs.ts';
import { apiEvent, lambdaContext, parseBody, TEST_BUSINESS_ID, TEST_KEY_ID } from '../../support/events.ts';
import { cardEvent, issuedCard, MISSING_CARD_ID, serveCard } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const captured = captureLogs();
const ORIGIN = 'https://app.example.com';

function sessionEvent(cardId: string, body: unknown, headers: Record<string, string> = {}) {
  return cardEvent('POST', cardId, '/reveal-sessions', { body, headers });
}

function pageEvent(token: string) {
  return apiEvent({ method: 'GET', path: '/v1/card-reveal', resource: '/v1/card-reveal', query: { token }, authorizer: null });
}

async function servedCard(status: 'Active' | 'Terminated' = 'Active') {
  const { card, item } = await issuedCard(ddb);
  serveCard(ddb, item);
  ddb.on(PutCommand).resolves({});
  const full = parseBody(await revealCard(cardEvent('GET', card.id, '/full'), lambdaContext));
  const stored = { ...item, status };
  serveCard(ddb, stored);
  ddb.resetHistory();
  return { card, item: stored, full };
}

function sessionItem(cardId: string, overrides: Record<string, unknown> = {}) {
  return {
    PK: 'REVEAL#hash',
    SK: 'REVEAL',
    entity: 'reveal_session',
    businessId: TEST_BUSINESS_ID,
    cardId,
    keyId: TEST_KEY_ID,
    origin: ORIGIN,
    createdAt: '2026-01-01T00:00:00.000Z',
    revealUntil: new Date(Date.now() + 60_000).toISOString(),
    ...overrides,
  };
}

function consumedAlready(item: Record<string, unknown> | undefined) {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, ...(item ? { Item: marshall(item) } : {}) });
}

const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;

beforeEach(() => ddb.reset());

describe('POST /v1/cards/{id}/reveal-sessions', () => {
  it('answers a one-time link of 256 random bits and stores only its keyed hash', async () => {
    const { card } = await servedCard();
    const before = Date.now();
    const result = await createRevealSession(sessionEvent(card.id, { origin: ORIGIN, ttl_seconds: 30 }), lambdaContext);
    expect(result.statusCode, result.body).toBe(201);
    const body = parseBody(result);
    expect(body.url).toMatch(/^https:\/\/[^/]+\/v1\/card-reveal\?token=rvl_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(body.expires_at) - before).toBeGreaterThanOrEqual(29_000);
    expect(Date.parse(body.expires_at) - before).toBeLessThanOrEqual(31_000);

    const puts = ddb.commandCalls(PutCommand).map((call) => call.args[0].input);
    expect(puts).toHaveLength(1);
    const stored = puts[0]!;
    expect(stored.Item).toMatchObject({ SK: 'REVEAL', businessId: TEST_BUSINESS_ID, cardId: card.id, keyId: TEST_KEY_ID, origin: ORIGIN, revealUntil: body.expires_at });
    expect(stored.Item!.PK).toMatch(/^REVEAL#[A-Za-z0-9_-]{43}$/);
    expect(stored.ConditionExpression).toBe('attribute_not_exists(PK)');
    const token = tokenOf(body.url);
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(JSON.stringify(stored)).not.toContain(token.slice(4, 20));
  });

  it('makes a new link on every call, storing no answer even with an Idempotency-Key', async () => {
    const { card } = await servedCard();
    const headers = { 'Idempotency-Key': 'reveal-1' };
    const first = parseBody(await createRevealSession(sessionEvent(card.id, { origin: ORIGIN }, headers), lambdaContext));
    const second = parseBody(await createRevealSession(sessionEvent(card.id, { origin: ORIGIN }, headers), lambdaContext));
    expect(first.url).not.toBe(second.url);
    const written = [...ddb.commandCalls(PutCommand), ...ddb.commandCalls(UpdateCommand), ...ddb.commandCalls(TransactWriteCommand)];
    expect(JSON.stringify(written.map((call) => call.args[0].input))).not.toContain('IDEMPOTENCY#');
  });

  it('defaults the link to 60 seconds and refuses lifetimes outside 10-300', async () => {
    const { card } = await servedCard();
    const before = Date.now();
    const body = parseBody(await createRevealSession(sessionEvent(card.id, { origin: ORIGIN }), lambdaContext));
    expect(Math.round((Date.parse(body.expires_at) - before) / 1000)).toBe(60);
    for (const ttl_seconds of [9, 301, 1.5, '60']) {
      const refused = await createRevealSession(sessionEvent(card.id, { origin: ORIGIN, ttl_seconds }), lambdaContext);
      expect(refused.statusCode, String(ttl_seconds)).toBe(400);
      expect(parseBody(refused).error.code).toBe('validation_error');
    }
  });

  it('refuses an origin that is not exactly an https origin (http://localhost is fine in sandbox)', async () => {
    const { card } = await servedCard();
    for (const origin of ['http://app.example.com', 'https://app.example.com/cards', 'https://app.example.com?x=1', '*', "https://a.example 'unsafe-inline'", 'https://user@app.example.com', 'javascript:alert(1)', 'null']) {
      const refused = await createRevealSession(sessionEvent(card.id, { origin }), lambdaContext);
      expect(refused.statusCode, origin).toBe(400);
      expect(parseBody(refused).error.code, origin).toBe('invalid_reveal_origin');
    }
    expect((await createRevealSession(sessionEvent(card.id, { origin: 'http://localhost:5173' }), lambdaContext)).statusCode).toBe(201);
    expect((await createRevealSession(sessionEvent(card.id, { origin: 'https://app.example.com/' }), lambdaContext)).statusCode).toBe(201);
    expect(ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item!.origin)).toEqual(['http://localhost:5173', ORIGIN]);
  });

  it("answers another business's or a missing card as 404, and a terminated card as 409", async () => {
    const { card } = await servedCard('Terminated');
    const terminated = await createRevealSession(sessionEvent(card.id, { origin: ORIGIN }), lambdaContext);
    expect(terminated.statusCode).toBe(409);
    expect(parseBody(terminated).error.code).toBe('card_terminated');
    const missing = await createRevealSession(sessionEvent(MISSING_CARD_ID, { origin: ORIGIN }), lambdaContext);
    expect(missing.statusCode).toBe(404);
    expect(parseBody(missing).error.code).toBe('card_not_found');
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('revealOrigin', () => {
  it('allows http://localhost only in sandbox', () => {
    expect(revealOrigin('http://localhost:3000', 'sandbox')).toBe('http://localhost:3000');
    expect(revealOrigin('http://localhost:3000', 'production')).toBeUndefined();
    expect(revealOrigin('https://App.Example.com', 'production')).toBe('https://app.example.com');
    expect(revealOrigin('https://app.example.com:8443', 'production')).toBe('https://app.example.com:8443');
    expect(revealOrigin('https://app.example.com#x', 'production')).toBeUndefined();
  });
});

describe('GET /v1/card-reveal', () => {
  it('consumes the session with one conditional write, audits with the origin, then shows the card', async () => {
    const { card, full } = await servedCard();
    ddb.on(UpdateCommand).resolves({ Attributes: sessionItem(card.id) });
    const result = await getRevealPage(pageEvent(`rvl_${'A'.repeat(43)}`), lambdaContext);
    expect(result.statusCode, result.body).toBe(200);
    expect(result.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    });
    const csp = String(result.headers!['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/(^|; )frame-ancestors https:\/\/app\.example\.com(;|$)/);
    expect(csp).not.toMatch(/script-src|unsafe-inline|\*/);
    expect(result.body).not.toMatch(/<script/i);
    expect(result.body).toContain(full.card_number.replace(/(\d{4})(?=\d)/g, '$1 '));
    expect(result.body).toContain(`>${full.cvv}<`);
    expect(result.body).toContain(`>${full.expiry_month}/${full.expiry_year.slice(-2)}<`);

    const consume = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(consume.Key!.PK).toMatch(/^REVEAL#/);
    expect(consume.ConditionExpression).toBe('attribute_exists(PK) AND attribute_not_exists(consumedAt) AND revealUntil > :now');
    const audit = ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item!);
    expect(audit).toEqual([expect.objectContaining({ PK: `CARD_AUDIT#${card.id}`, action: 'reveal', keyId: TEST_KEY_ID, origin: ORIGIN })]);
  });

  it('answers 410 with no card data when the session was used or expired, framed by its origin still', async () => {
    const { card, full } = await servedCard();
    ddb.on(UpdateCommand).rejects(consumedAlready(sessionItem(card.id, { consumedAt: new Date().toISOString() })));
    const result = await getRevealPage(pageEvent(`rvl_${'B'.repeat(43)}`), lambdaContext);
    expect(result.statusCode).toBe(410);
    expect(result.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    expect(String(result.headers!['content-security-policy'])).toMatch(/frame-ancestors https:\/\/app\.example\.com(;|$)/);
    for (const secret of [full.card_number, full.card_number.slice(-4), `>${full.cvv}<`]) expect(result.body).not.toContain(secret);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('answers 410 framed by no one for a token it never issued, without looking up a malformed one', async () => {
    ddb.on(UpdateCommand).rejects(consumedAlready(undefined));
    const unknown = await getRevealPage(pageEvent(`rvl_${'C'.repeat(43)}`), lambdaContext);
    expect(unknown.statusCode).toBe(410);
    expect(String(unknown.headers!['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
    const malformed = await getRevealPage(pageEvent('not-a-token'), lambdaContext);
    expect(malformed.statusCode).toBe(410);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('does not reveal a card terminated since the link was made', async () => {
    const { card, full } = await servedCard('Terminated');
    ddb.on(UpdateCommand).resolves({ Attributes: sessionItem(card.id) });
    const result = await getRevealPage(pageEvent(`rvl_${'D'.repeat(43)}`), lambdaContext);
    expect(result.statusCode).toBe(410);
    for (const secret of [full.card_number, full.card_number.slice(-4), `>${full.cvv}<`]) expect(result.body).not.toContain(secret);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('logs of the reveal routes', () => {
  it('hold the requests but never the link token, card number, CVV or expiry', async () => {
    const { card, full } = await servedCard();
    captured.length = 0;
    const created = parseBody(await createRevealSession(sessionEvent(card.id, { origin: ORIGIN }), lambdaContext));
    const token = tokenOf(created.url);
    ddb.on(UpdateCommand).resolves({ Attributes: sessionItem(card.id) });
    expect((await getRevealPage(pageEvent(token), lambdaContext)).statusCode).toBe(200);
    ddb.on(UpdateCommand).rejects(consumedAlready(sessionItem(card.id, { consumedAt: new Date().toISOString() })));
    expect((await getRevealPage(pageEvent(token), lambdaContext)).statusCode).toBe(410);
    // A failure after the secrets were opened logs its error, and still nothing secret.
    ddb.on(UpdateCommand).rejects(new Error(`boom`));
    expect((await getRevealPage(pageEvent(token), lambdaContext)).statusCode).toBe(500);

    const logs = captured.join('');
    expect(logs).toMatch(/"message":"request"/);
    expect(logs).toMatch(/"resource":"\/v1\/card-reveal"/);
    for (const secret of [token, token.slice(4), full.card_number, full.card_number.slice(6, 12), `"${full.cvv}"`]) expect(logs, secret).not.toContain(secret);
    expect(logs).not.toMatch(/rvl_/);
    expect(logs).not.toMatch(/\d{13,19}/);
  });
});

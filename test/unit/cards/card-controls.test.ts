/**
 * Spending controls and the spend view through their wrapped handlers, DynamoDB answered with
 * plain aws-sdk-client-mock responses: what each route reads and writes, and what it answers.
 * Controls actually declining authorizations, and the daily count under concurrency:
 * test/integration/spending-controls.test.ts.
 */
import { DynamoDBDocumentClient, GetCommand, NumberValue, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as getCardSpend } from '../../../functions/cards/get-card-spend.ts';
import { handler as updateCardControls } from '../../../functions/cards/update-card-controls.ts';
import { handler as getControls } from '../../../functions/controls/get-controls.ts';
import { handler as updateControls } from '../../../functions/controls/update-controls.ts';
import { apiEvent, lambdaContext, parseBody, TEST_BUSINESS_ID, TEST_KEY_ID } from '../../support/events.ts';
import { businessAuthorizer, cancelled, cardEvent, issuedCard, OTHER_BUSINESS_ID, serveCard, transactions } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const NO_CONTROLS_VIEW = { allowed_mccs: [], blocked_mccs: [], allowed_countries: [], blocked_countries: [], max_daily_count: 0 };

beforeEach(() => {
  ddb.reset();
});

describe('POST /v1/cards with controls', () => {
  it('stores them on the card item and shows them on the card, lists de-duplicated and sorted', async () => {
    const { card, item } = await issuedCard(ddb, { mode: 'B2B', controls: { blocked_mccs: ['7995', '5814', '7995'], allowed_countries: ['HK'], max_daily_count: 3 } });
    expect(card.controls).toEqual({ ...NO_CONTROLS_VIEW, blocked_mccs: ['5814', '7995'], allowed_countries: ['HK'], max_daily_count: 3 });
    expect(item.controls).toEqual({ allowedMccs: [], blockedMccs: ['5814', '7995'], allowedCountries: ['HK'], blockedCountries: [], maxDailyCount: 3 });
  });
});

describe('PUT /v1/cards/{id}/controls', () => {
  const put = (cardId: string, body: unknown, authorizer?: Record<string, string>) =>
    updateCardControls(cardEvent('PUT', cardId, '/controls', { body, ...(authorizer ? { authorizer } : {}) }), lambdaContext);

  async function servedCard(changes: Record<string, unknown> = {}) {
    const { card, item } = await issuedCard(ddb, { mode: 'B2B', controls: { blocked_mccs: ['7995'] } });
    const stored = { ...item, ...changes };
    serveCard(ddb, stored);
    ddb.on(TransactWriteCommand).resolves({});
    return { card, item: stored };
  }

  it('replaces the whole set on the card, conditionally on the version read, with its audit event (before and after)', async () => {
    const { card } = await servedCard();
    const result = await put(card.id, { allowed_mccs: ['5814'], max_daily_count: 2 });

    expect(result.statusCode).toBe(200);
    expect(parseBody(result).controls).toEqual({ ...NO_CONTROLS_VIEW, allowed_mccs: ['5814'], max_daily_count: 2 });
    const [change] = transactions(ddb);
    expect(change![0]!.Update).toMatchObject({
      Key: { PK: `CARD#${card.id}`, SK: 'CARD' },
      ConditionExpression: 'businessId = :businessId AND version = :version',
      ExpressionAttributeValues: expect.objectContaining({
        ':controls': { allowedMccs: ['5814'], blockedMccs: [], allowedCountries: [], blockedCountries: [], maxDailyCount: 2 },
        ':nextVersion': 2,
      }),
    });
    const audit = change![1]!.Put!.Item;
    expect(audit).toMatchObject({ PK: `CARD_AUDIT#${card.id}`, action: 'controls_update', keyId: TEST_KEY_ID });
    expect(JSON.parse(audit.change)).toEqual({
      setting: 'controls',
      from: { ...NO_CONTROLS_VIEW, blocked_mccs: ['7995'] },
      to: { ...NO_CONTROLS_VIEW, allowed_mccs: ['5814'], max_daily_count: 2 },
    });
  });

  it('is 400 naming each bad entry: a 3-digit MCC, an unassigned country, a negative count', async () => {
    const { card } = await servedCard();
    const result = await put(card.id, { blocked_mccs: ['581'], allowed_countries: ['HK', 'ZZ'], max_daily_count: -1 });
    expect(result.statusCode).toBe(400);
    expect(parseBody(result).error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['allowed_countries.1', 'blocked_mccs.0', 'max_daily_count']);
    expect(transactions(ddb)).toHaveLength(0);
  });

  it('is 409 card_terminated on a terminated card, and 404 for another business, writing nothing', async () => {
    const { card } = await servedCard({ status: 'Terminated' });
    const terminated = await put(card.id, {});
    expect(terminated.statusCode).toBe(409);
    expect(parseBody(terminated).error.code).toBe('card_terminated');
    const elsewhere = await put(card.id, {}, businessAuthorizer(OTHER_BUSINESS_ID));
    expect(elsewhere.statusCode).toBe(404);
    expect(parseBody(elsewhere).error.code).toBe('card_not_found');
    expect(transactions(ddb)).toHaveLength(0);
  });

  it('decides again when the card changed since it was read', async () => {
    const { card, item } = await servedCard();
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: item })
      .resolves({ Item: { ...item, version: 2 } });
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled('ConditionalCheckFailed', 'None')).resolves({});
    const result = await put(card.id, { blocked_countries: ['KP'] });
    expect(result.statusCode).toBe(200);
    const [, retried] = transactions(ddb);
    expect(retried![0]!.Update.ExpressionAttributeValues).toMatchObject({ ':version': 2, ':nextVersion': 3 });
  });
});

describe('GET /v1/cards/{id}/spend', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("shows each window's limit, spend, what remains and when it resets (business timezone), and the day's count", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-03-04T03:32:11Z'));
    const { card, item } = await issuedCard(ddb, { mode: 'B2B', currency: 'HKD', limits: { daily: '100', lifetime: '1000' }, controls: { max_daily_count: 5 } });
    serveCard(ddb, item);
    ddb.on(GetCommand, { Key: { PK: `BUSINESS#${TEST_BUSINESS_ID}`, SK: 'PROFILE' } }).resolves({ Item: { businessId: TEST_BUSINESS_ID, timezone: 'Asia/Hong_Kong' } });
    ddb.on(GetCommand, { Key: { PK: `BUSINESS#${TEST_BUSINESS_ID}`, SK: 'CONTROLS' } }).resolves({
      Item: { controls: { allowedMccs: [], blockedMccs: [], allowedCountries: [], blockedCountries: [], maxDailyCount: NumberValue.from('3') } },
    });
    const counter = (sk: string, values: Record<string, string>) => ({
      PK: `CARD#${card.id}`,
      SK: sk,
      ...Object.fromEntries(Object.entries(values).map(([name, value]) => [name, NumberValue.from(value)])),
    });
    ddb.on(QueryCommand).resolves({
      Items: [
        counter('SPEND#daily#2030-03-03', { spent: '9900' }), // yesterday: not today's
        counter('SPEND#daily#2030-03-04', { spent: '12050' }),
        counter('SPEND#daily_count#2030-03-04', { approved: '2' }),
        counter('SPEND#monthly#2030-03', { spent: '30000' }),
        counter('SPEND#lifetime#lifetime', { spent: '50000' }),
      ],
    });

    const result = await getCardSpend(cardEvent('GET', card.id, '/spend'), lambdaContext);

    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toEqual({
      currency: 'HKD',
      daily: { limit: '100', spent: '120.5', remaining: '0', resets_at: '2030-03-04T16:00:00.000000Z' },
      monthly: { limit: '0', spent: '300', remaining: null, resets_at: '2030-03-31T16:00:00.000000Z' },
      lifetime: { limit: '1000', spent: '500', remaining: '500' },
      // The business's 3 is stricter than the card's 5.
      daily_count: { limit: 3, used: 2 },
    });
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': `CARD#${card.id}`, ':prefix': 'SPEND#' },
      ConsistentRead: true,
    });
  });

  it('is 404 card_not_found for another business, reading no counter', async () => {
    const { card, item } = await issuedCard(ddb, { mode: 'B2B' });
    serveCard(ddb, item);
    const result = await getCardSpend(cardEvent('GET', card.id, '/spend', { authorizer: businessAuthorizer(OTHER_BUSINESS_ID) }), lambdaContext);
    expect(result.statusCode).toBe(404);
    expect(parseBody(result).error.code).toBe('card_not_found');
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });
});

describe('GET and PUT /v1/controls', () => {
  const event = (method: 'GET' | 'PUT', body?: unknown, authorizer?: Record<string, string>) =>
    apiEvent({ method, path: '/v1/controls', resource: '/v1/controls', ...(body ? { body } : {}), ...(authorizer ? { authorizer } : {}) });

  it('answers no controls before any were set', async () => {
    ddb.on(GetCommand).resolves({});
    const result = await getControls(event('GET'), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toEqual({ controls: NO_CONTROLS_VIEW, p_updated_at: null });
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: { PK: `BUSINESS#${TEST_BUSINESS_ID}`, SK: 'CONTROLS' }, ConsistentRead: true });
  });

  it("replaces the business's whole set in its own item, with who set it", async () => {
    ddb.on(PutCommand).resolves({});
    const result = await updateControls(event('PUT', { blocked_countries: ['KP', 'IR'], max_daily_count: 20 }), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toMatchObject({ controls: { ...NO_CONTROLS_VIEW, blocked_countries: ['IR', 'KP'], max_daily_count: 20 }, p_updated_at: expect.any(String) });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        PK: `BUSINESS#${TEST_BUSINESS_ID}`,
        SK: 'CONTROLS',
        updatedBy: TEST_KEY_ID,
        controls: { allowedMccs: [], blockedMccs: [], allowedCountries: [], blockedCountries: ['IR', 'KP'], maxDailyCount: 20 },
      }),
    });
  });

  it('is 400 on a bad MCC and an unknown field, writing nothing', async () => {
    const result = await updateControls(event('PUT', { allowed_mccs: ['12a4'], colour: 'red' }), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
  });
});

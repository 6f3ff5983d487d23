/**
 * How the authorization transaction's cancellation becomes a decline: each failed condition maps
 * to its reason, several failed conditions give the first in the documented order of
 * shared/domain/authorization.ts, and a decline is recorded (transaction and event) without
 * moving any money. Checks decided before the transaction (expiry, status) never send it.
 */
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as simulateAuthorize } from '../../../functions/simulate/create-authorization.ts';
import { DECLINE_REASONS, type DeclineReason } from '../../../shared/domain/authorization.ts';
import { lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';
import { businessItem, cancelled, cardItem, serveItems, simulateAuthorizationEvent, USER_ID, type CardItemOptions } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);

type Key = { PK: string; SK: string };

/**
 * The conditional items of a B2C approval, found by their keys (never by position), and the
 * reason each can raise.
 */
const CONDITIONS: { item: string; matches: (key: Key) => boolean; reason: DeclineReason }[] = [
  { item: 'user check', matches: (key) => key.PK.startsWith('USER#') && key.SK === 'PROFILE', reason: 'user_suspended' },
  { item: 'daily counter', matches: (key) => key.SK.startsWith('SPEND#daily#'), reason: 'exceeds_daily_limit' },
  { item: 'monthly counter', matches: (key) => key.SK.startsWith('SPEND#monthly#'), reason: 'exceeds_monthly_limit' },
  { item: 'lifetime counter', matches: (key) => key.SK.startsWith('SPEND#lifetime#'), reason: 'exceeds_lifetime_limit' },
  { item: 'daily count', matches: (key) => key.SK.startsWith('SPEND#daily_count#'), reason: 'exceeds_daily_count' },
  { item: 'balance hold', matches: (key) => key.SK.startsWith('BALANCE#'), reason: 'insufficient_balance' },
];
const BALANCE_HOLD = CONDITIONS[5]!.item;

/** Every window limit and the daily count on (and roomy enough that the amount alone passes the pre-checks). */
const B2C_CARD: CardItemOptions = { mode: 'B2C', limits: { transaction: 100_000n, daily: 100_000n, monthly: 200_000n, lifetime: 300_000n } };
const B2C_CARD_ITEM = { ...cardItem(B2C_CARD), controls: { allowedMccs: [], blockedMccs: [], allowedCountries: [], blockedCountries: [], maxDailyCount: 3 } };

function keyOf(item: Record<string, any>): Key {
  const body = Object.values(item)[0] as { Key?: Key; Item?: Key };
  return (body.Key ?? body.Item)!;
}

/** Cancels the first transaction, failing the conditions of the items named; the next commits. */
async function authorizeWith(failedItems: string[]) {
  const failing = CONDITIONS.filter((condition) => failedItems.includes(condition.item));
  let first = true;
  ddb.on(TransactWriteCommand).callsFake((input: { TransactItems: Record<string, any>[] }) => {
    if (!first) return {};
    first = false;
    throw cancelled(input.TransactItems.map((item) => (failing.some((condition) => condition.matches(keyOf(item))) ? 'ConditionalCheckFailed' : 'None')));
  });
  return simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);
}

function transactions() {
  return ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems as Record<string, any>[]);
}

describe('a cancelled authorization transaction', () => {
  beforeEach(() => {
    ddb.reset();
    serveItems(ddb, [B2C_CARD_ITEM, businessItem()]);
  });

  it.each(CONDITIONS)('declines with $reason when only the $item fails its condition', async ({ item, reason }) => {
    const result = await authorizeWith([item]);

    expect(result.statusCode).toBe(201);
    expect(parseBody(result)).toMatchObject({ status: 'Declined', decline_reason: reason, local_amount: '-10' });
  });

  it('records the decline as the transaction and its event only: no hold, no counter, no posting', async () => {
    await authorizeWith([BALANCE_HOLD]);

    const [approval, decline] = transactions();
    // The user check, three counters, the daily count, hold, card check, transaction, posting, event and its delivery record.
    expect(approval).toHaveLength(11);
    expect(decline).toHaveLength(3);
    const put = (entity: string) => decline!.find((item) => item.Put?.Item?.entity === entity)!.Put;
    expect(put('card_transaction').Item).toMatchObject({ status: 'Declined', declineReason: 'insufficient_balance', remainingHold: 0n });
    expect(put('card_transaction').ConditionExpression).toBe('attribute_not_exists(PK)');
    expect(put('event').Item).toMatchObject({ type: 'transaction.authorization' });
    expect(JSON.parse(put('event').Item.payload)).toMatchObject({ action: 'Authorization', card_transaction: { status: 'Declined', decline_reason: 'insufficient_balance' } });
  });

  it('declines with the first failed condition in the documented order, whichever others fail with it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.subarray(CONDITIONS, { minLength: 1 }), async (failing) => {
        ddb.resetHistory();
        const result = await authorizeWith(failing.map((condition) => condition.item));
        const expected = DECLINE_REASONS.find((reason) => failing.some((condition) => condition.reason === reason));
        expect(parseBody(result).decline_reason).toBe(expected);
      }),
      { numRuns: 40 },
    );
  });
});

describe('spending controls, decided before the transaction', () => {
  beforeEach(() => ddb.reset());

  const controlled = (controls: Record<string, unknown>, options: CardItemOptions = {}) => ({
    ...cardItem(options),
    controls: { allowedMccs: [], blockedMccs: [], allowedCountries: [], blockedCountries: [], maxDailyCount: 0, ...controls },
  });

  it.each([
    [{ blockedMccs: ['5814'] }, { mcc: '5814' }, 'merchant_category_blocked'],
    [{ allowedMccs: ['5411'] }, { mcc: '5814' }, 'merchant_category_blocked'],
    [{ allowedMccs: ['5411'] }, {}, 'merchant_category_blocked'],
    [{ blockedCountries: ['HK'] }, { merchant_country: 'HK' }, 'merchant_country_blocked'],
    [{ allowedCountries: ['SG'] }, { merchant_country: 'HK' }, 'merchant_country_blocked'],
    [{ blockedMccs: ['5814'], blockedCountries: ['HK'] }, { mcc: '5814', merchant_country: 'HK' }, 'merchant_category_blocked'],
  ])('card controls %j decline %j with %s, recording only the decline', async (controls, merchant, reason) => {
    serveItems(ddb, [controlled(controls), businessItem()]);

    const result = await simulateAuthorize(simulateAuthorizationEvent(merchant), lambdaContext);

    expect(parseBody(result)).toMatchObject({ status: 'Declined', decline_reason: reason });
    expect(transactions()).toHaveLength(1);
    expect(transactions()[0]).toHaveLength(3);
  });

  it('approves what an allow list names and a block list does not', async () => {
    serveItems(ddb, [controlled({ allowedMccs: ['5814'], blockedMccs: ['7995'], allowedCountries: ['HK'], blockedCountries: ['KP'] }), businessItem()]);

    const result = await simulateAuthorize(simulateAuthorizationEvent({ mcc: '5814', merchant_country: 'HK' }), lambdaContext);

    expect(parseBody(result).status).toBe('Authorized');
  });

  it('declines a locked card card_locked before its controls', async () => {
    serveItems(ddb, [controlled({ blockedMccs: ['5814'] }, { status: 'Locked' }), businessItem()]);
    const result = await simulateAuthorize(simulateAuthorizationEvent({ mcc: '5814' }), lambdaContext);
    expect(parseBody(result).decline_reason).toBe('card_locked');
  });

  it('declines a blocked category before a limit the amount alone exceeds', async () => {
    serveItems(ddb, [controlled({ blockedMccs: ['5814'] }, { limits: { transaction: 500n } }), businessItem()]);
    const result = await simulateAuthorize(simulateAuthorizationEvent({ mcc: '5814', amount: '10' }), lambdaContext);
    expect(parseBody(result).decline_reason).toBe('merchant_category_blocked');
  });

  it("declines user_suspended before the card's controls (B2C)", async () => {
    const suspended = {
      PK: `USER#${USER_ID}`, SK: 'PROFILE', entity: 'user', userId: USER_ID, businessId: TEST_BUSINESS_ID, status: 'Suspended', externalId: null,
      createdAt: 't', updatedAt: 't', ekyc: 'sealed', ekycFingerprints: { firstName: 'f', lastName: 'l', idNumber: 'i' },
    };
    serveItems(ddb, [controlled({ blockedCountries: ['HK'] }, { mode: 'B2C' }), businessItem(), suspended]);
    const result = await simulateAuthorize(simulateAuthorizationEvent({ merchant_country: 'HK' }), lambdaContext);
    expect(parseBody(result).decline_reason).toBe('user_suspended');
  });
});

describe('checks decided before the transaction', () => {
  beforeEach(() => ddb.reset());

  it('declines a card past its expiry month with card_expired and sends no approval transaction', async () => {
    const sixYearsAgo = new Date();
    sixYearsAgo.setUTCFullYear(sixYearsAgo.getUTCFullYear() - 6);
    serveItems(ddb, [cardItem({ createdAt: sixYearsAgo.toISOString() }), businessItem()]);

    const result = await simulateAuthorize(simulateAuthorizationEvent({}), lambdaContext);

    expect(result.statusCode).toBe(201);
    expect(parseBody(result)).toMatchObject({ status: 'Declined', decline_reason: 'card_expired' });
    expect(transactions()).toHaveLength(1);
    expect(transactions()[0]).toHaveLength(3);
  });

  it('approves a card issued almost five years ago (valid through its expiry month)', async () => {
    const issued = new Date();
    issued.setUTCFullYear(issued.getUTCFullYear() - 5);
    serveItems(ddb, [cardItem({ createdAt: issued.toISOString() }), businessItem()]);

    const result = await simulateAuthorize(simulateAuthorizationEvent({}), lambdaContext);

    expect(parseBody(result).status).toBe('Authorized');
  });

  it.each([
    ['Locked', 'card_locked'],
    ['Terminated', 'card_terminated'],
  ] as const)('declines a %s card with %s without trying to approve', async (status, reason) => {
    serveItems(ddb, [cardItem({ status }), businessItem()]);

    const result = await simulateAuthorize(simulateAuthorizationEvent({}), lambdaContext);

    expect(parseBody(result)).toMatchObject({ status: 'Declined', decline_reason: reason });
    expect(transactions()).toEqual([expect.arrayContaining([expect.objectContaining({ Put: expect.objectContaining({ Item: expect.objectContaining({ status: 'Declined' }) }) })])]);
  });
});

describe('the documented order for a B2C card whose user is suspended (found by the money model)', () => {
  beforeEach(() => ddb.reset());

  const userItem = (status: 'Active' | 'Suspended') => ({
    PK: `USER#${USER_ID}`, SK: 'PROFILE', entity: 'user', userId: USER_ID, businessId: TEST_BUSINESS_ID, status, externalId: null,
    createdAt: 't', updatedAt: 't', ekyc: 'sealed', ekycFingerprints: { firstName: 'f', lastName: 'l', idNumber: 'i' },
  });

  it('declines user_suspended before a limit the card alone would refuse', async () => {
    serveItems(ddb, [cardItem({ mode: 'B2C', limits: { transaction: 500n } }), businessItem(), userItem('Suspended')]);
    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);
    expect(parseBody(result)).toMatchObject({ status: 'Declined', decline_reason: 'user_suspended' });
  });

  it('keeps the limit reason when the user is Active', async () => {
    serveItems(ddb, [cardItem({ mode: 'B2C', limits: { transaction: 500n } }), businessItem(), userItem('Active')]);
    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);
    expect(parseBody(result)).toMatchObject({ status: 'Declined', decline_reason: 'exceeds_transaction_limit' });
  });
});

/**
 * The 3DS routes through their wrapped handlers, over aws-sdk-client-mock: which cards may be
 * challenged (and that the challenge's transaction checks the same again), what a verification's
 * transaction carries for the card's budget of wrong codes, a verify that loses a race decides
 * again, and neither the code nor its hash input ever reaches a log line.
 *
 * Reads come from a small keyed store; each transaction is answered by the test (committed, or
 * cancelled on the items it names), so DynamoDB's own semantics stay with the integration specs.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, NumberValue, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as challenge } from '../../../functions/simulate/create-3ds-challenge.ts';
import { handler as verify } from '../../../functions/simulate/verify-3ds-challenge.ts';
import { openSecret } from '../../../shared/crypto/envelope.ts';
import { threeDsKeys } from '../../../shared/db/keys.ts';
import { wrongCodeHourLabel } from '../../../shared/domain/three-ds.ts';
import { captureLogs } from '../../support/capture-logs.ts';
import { apiEvent, lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const CARD_ID = '0190a3c4-0000-7000-8000-00000000c0de';
const USER_ID = '0190a3c4-0000-7000-8000-00000000beef';
const HOUR_MS = 3_600_000;

type Item = Record<string, any>;
type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;
let items: Map<string, Item>;
/** Decides each transaction: return the indexes of the items whose condition fails (none: it commits). */
let failing: (transactItems: TransactItems) => number[];

const key = (k: { PK: string; SK: string }) => `${k.PK}|${k.SK}`;
const put = (item: Item) => items.set(key(item as never), item);

function cardItem(overrides: Item = {}): Item {
  return {
    PK: `CARD#${CARD_ID}`, SK: 'CARD', entity: 'card', cardId: CARD_ID, businessId: TEST_BUSINESS_ID, mode: 'B2B', form: 'virtual', status: 'Active',
    currency: 'HKD', maskedNumber: '356772******8213', last4: '8213', limits: {}, createdAt: new Date().toISOString(), createdBy: 'k',
    updatedAt: 't', statusChangedAt: 't', statusChangedBy: 'k', version: 1, secrets: 'sealed-card-bundle-never-opened-here',
    ...overrides,
  };
}

function userItem(status: 'Active' | 'Suspended'): Item {
  return {
    PK: `USER#${USER_ID}`, SK: 'PROFILE', entity: 'user', userId: USER_ID, businessId: TEST_BUSINESS_ID, status, externalId: null,
    createdAt: 't', updatedAt: 't', ekyc: 'sealed-ekyc', ekycFingerprints: { firstName: 'f', lastName: 'l', idNumber: 'i' },
  };
}

/** The card's counter of wrong codes for the current hour, as DynamoDB returns it. */
function wrongCodesThisHour(count: number): void {
  put({ ...threeDsKeys.cardWrongCodes(CARD_ID, wrongCodeHourLabel(Math.floor(Date.now() / HOUR_MS))), wrongCodes: NumberValue.from(String(count)) });
}

function transactions(): TransactItems[] {
  return ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems!);
}

function cancelled(transactItems: TransactItems, failed: number[]) {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: transactItems.map((_, i) => ({ Code: failed.includes(i) ? 'ConditionalCheckFailed' : 'None' })),
  });
}

/** A committed transaction's Puts and the verification's new state, so a following read sees them. */
function commit(transactItems: TransactItems): void {
  for (const entry of transactItems) {
    if (entry.Put) put(structuredClone(entry.Put.Item as Item));
    const update = entry.Update;
    if (update && String(update.Key!.PK).startsWith('THREEDS#')) {
      const verification = items.get(key(update.Key as never))!;
      verification.status = update.ExpressionAttributeValues![':status'];
      verification.wrongAttempts = update.ExpressionAttributeValues![':wrong'];
      if (update.UpdateExpression!.includes('REMOVE otpHash')) delete verification.otpHash;
    }
  }
}

const captured = captureLogs();
beforeEach(() => {
  // Date frozen at the real time (the challenge's own clock, nowIso, reads performance, which is
  // not faked), so the test and the handler name the same hourly counter.
  const realNow = Date.now();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(realNow);
  items = new Map();
  put(cardItem());
  put({ PK: `BUSINESS#${TEST_BUSINESS_ID}`, SK: 'PROFILE', businessId: TEST_BUSINESS_ID, name: 'speed pay', timezone: 'UTC' });
  failing = () => [];
  ddb.reset();
  ddb.on(GetCommand).callsFake((input) => ({ Item: structuredClone(items.get(key(input.Key))) }));
  ddb.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => {
    const failed = failing(input.TransactItems!);
    if (failed.length > 0) throw cancelled(input.TransactItems!, failed);
    commit(input.TransactItems!);
    return {};
  });
});
afterEach(() => {
  vi.useRealTimers();
});

const challengeEvent = () =>
  apiEvent({ method: 'POST', path: '/v1/simulate/3ds', body: { card_id: CARD_ID, amount: '101', currency: 'HKD', merchant_name: 'Tea' } });
const verifyEvent = (verificationId: string, otp: string) =>
  apiEvent({
    method: 'POST',
    path: `/v1/simulate/3ds/${verificationId}/verify`,
    resource: '/v1/simulate/3ds/{verification_id}/verify',
    pathParameters: { verification_id: verificationId },
    body: { otp_code: otp },
  });

/** The code, as only the delivery function can read it: from the sealed copy in the outbox event. */
async function codeOf(verificationId: string): Promise<string> {
  const event = [...items.values()].find((item) => item.entity === 'event' && item.payload.includes(verificationId))!;
  return openSecret<string>(event.otpSealed, { business_id: TEST_BUSINESS_ID, event_id: event.eventId, purpose: 'otp' });
}

async function pendingChallenge(): Promise<{ verificationId: string; code: string; wrong: string }> {
  const { verification_id: verificationId } = parseBody(await challenge(challengeEvent(), lambdaContext));
  const code = await codeOf(verificationId);
  ddb.resetHistory();
  return { verificationId, code, wrong: String((Number(code) + 1) % 1e6).padStart(6, '0') };
}

/** The index of the item of `transactItems` on `k`, whatever its kind. */
function indexOn(transactItems: TransactItems, k: { PK: string; SK: string }): number {
  return transactItems.findIndex((entry) => {
    const itemKey = entry.Put?.Item ?? entry.Update?.Key ?? entry.ConditionCheck?.Key ?? entry.Delete?.Key;
    return itemKey?.PK === k.PK && itemKey?.SK === k.SK;
  });
}

describe('a 3DS challenge', () => {
  it('is refused when the card is locked while it is being made (the transaction checks the card)', async () => {
    failing = (transactItems) => {
      put(cardItem({ status: 'Locked' }));
      return [indexOn(transactItems, { PK: `CARD#${CARD_ID}`, SK: 'CARD' })];
    };
    const response = await challenge(challengeEvent(), lambdaContext);
    expect(response.statusCode).toBe(409);
    expect(parseBody(response).error.code).toBe('card_locked');
    expect([...items.values()].filter((item) => item.entity === 'event')).toEqual([]);
  });

  it("checks in its transaction that the card's budget of wrong codes has room this hour, and for a B2C card that its user is Active", async () => {
    put(cardItem({ mode: 'B2C', userId: USER_ID }));
    put(userItem('Active'));
    expect((await challenge(challengeEvent(), lambdaContext)).statusCode).toBe(201);
    const [transactItems] = transactions();
    const hour = Math.floor(Date.now() / HOUR_MS);
    expect(transactItems![indexOn(transactItems!, threeDsKeys.cardWrongCodes(CARD_ID, wrongCodeHourLabel(hour)))]!.ConditionCheck).toMatchObject({
      ConditionExpression: 'attribute_not_exists(wrongCodes) OR wrongCodes < :limit',
      ExpressionAttributeValues: { ':limit': 10 },
    });
    expect(transactItems![indexOn(transactItems!, { PK: `USER#${USER_ID}`, SK: 'PROFILE' })]!.ConditionCheck).toMatchObject({
      ConditionExpression: '#status = :active AND businessId = :businessId',
      ExpressionAttributeValues: { ':active': 'Active', ':businessId': TEST_BUSINESS_ID },
    });
  });

  it('is refused 409 otp_attempts_exhausted once the card holds 10 wrong codes this hour, writing nothing', async () => {
    wrongCodesThisHour(10);
    const response = await challenge(challengeEvent(), lambdaContext);
    expect(response.statusCode).toBe(409);
    expect(parseBody(response).error.code).toBe('otp_attempts_exhausted');
    expect(transactions()).toEqual([]);
  });

  it('is refused 409 otp_attempts_exhausted when the budget runs out while it is being made', async () => {
    failing = (transactItems) => {
      wrongCodesThisHour(10);
      return [indexOn(transactItems, threeDsKeys.cardWrongCodes(CARD_ID, wrongCodeHourLabel(Math.floor(Date.now() / HOUR_MS))))];
    };
    const response = await challenge(challengeEvent(), lambdaContext);
    expect(response.statusCode).toBe(409);
    expect(parseBody(response).error.code).toBe('otp_attempts_exhausted');
  });

  it('is refused 409 card_expired past the expiry month, decided from the issue date without opening the card bundle', async () => {
    const sixYearsAgo = new Date();
    sixYearsAgo.setUTCFullYear(sixYearsAgo.getUTCFullYear() - 6);
    put(cardItem({ createdAt: sixYearsAgo.toISOString() }));
    const response = await challenge(challengeEvent(), lambdaContext);
    expect(response.statusCode).toBe(409);
    expect(parseBody(response).error.code).toBe('card_expired');
    expect(transactions()).toEqual([]);
  });

  it('is refused 409 user_suspended for a B2C card whose user is suspended, also when that happens while it is being made', async () => {
    put(cardItem({ mode: 'B2C', userId: USER_ID }));
    put(userItem('Suspended'));
    const suspended = await challenge(challengeEvent(), lambdaContext);
    expect(suspended.statusCode).toBe(409);
    expect(parseBody(suspended).error.code).toBe('user_suspended');
    expect(transactions()).toEqual([]);

    put(userItem('Active'));
    failing = (transactItems) => {
      put(userItem('Suspended'));
      return [indexOn(transactItems, { PK: `USER#${USER_ID}`, SK: 'PROFILE' })];
    };
    const raced = await challenge(challengeEvent(), lambdaContext);
    expect(raced.statusCode).toBe(409);
    expect(parseBody(raced).error.code).toBe('user_suspended');
  });
});

describe('a 3DS verification', () => {
  it("counts a wrong code in the verification's own transaction: this hour's counter and the next 24, the first two only while below 10", async () => {
    const { verificationId, wrong } = await pendingChallenge();
    const response = await verify(verifyEvent(verificationId, wrong), lambdaContext);
    expect(parseBody(response)).toEqual({ verification_id: verificationId, status: 'Failed', attempts_remaining: 4 });

    const [transactItems] = transactions();
    expect(transactItems).toHaveLength(26);
    expect(transactItems![0]!.Update).toMatchObject({
      Key: threeDsKeys.verification(verificationId),
      ConditionExpression: '#status = :pending AND wrongAttempts = :read',
      ExpressionAttributeValues: { ':read': 0, ':wrong': 1 },
    });
    const hour = Math.floor(Date.now() / HOUR_MS);
    const counters = transactItems!.slice(1).map((entry) => entry.Update!);
    expect(counters.map((update) => update.Key)).toEqual(Array.from({ length: 25 }, (_, i) => threeDsKeys.cardWrongCodes(CARD_ID, wrongCodeHourLabel(hour + i))));
    for (const [i, update] of counters.entries()) {
      expect(update.UpdateExpression).toContain('ADD wrongCodes :one');
      if (i < 2) expect(update.ConditionExpression).toBe('attribute_not_exists(wrongCodes) OR wrongCodes < :limit');
      else expect(update.ConditionExpression).toBeUndefined();
    }
  });

  it('counts the wrong code that locks the verification (its fifth) against the card too', async () => {
    const { verificationId, wrong } = await pendingChallenge();
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(parseBody(await verify(verifyEvent(verificationId, wrong), lambdaContext)).status);
    expect(answers).toEqual(['Failed', 'Failed', 'Failed', 'Failed', 'Locked']);
    expect(transactions().map((t) => t.length)).toEqual([26, 26, 26, 26, 26]);
  });

  it("accepts a right code only while the card's budget holds (a condition on this hour's counter)", async () => {
    const { verificationId, code } = await pendingChallenge();
    const response = await verify(verifyEvent(verificationId, code), lambdaContext);
    expect(parseBody(response)).toEqual({ verification_id: verificationId, status: 'Verified', attempts_remaining: 5 });
    const [transactItems] = transactions();
    expect(transactItems).toHaveLength(2);
    expect(transactItems![1]!.ConditionCheck).toMatchObject({
      Key: threeDsKeys.cardWrongCodes(CARD_ID, wrongCodeHourLabel(Math.floor(Date.now() / HOUR_MS))),
      ConditionExpression: 'attribute_not_exists(wrongCodes) OR wrongCodes < :limit',
    });
  });

  it('answers Locked, even for the right code, once the card holds 10 wrong codes, counting nothing more', async () => {
    const { verificationId, code } = await pendingChallenge();
    wrongCodesThisHour(10);
    const response = await verify(verifyEvent(verificationId, code), lambdaContext);
    expect(parseBody(response)).toEqual({ verification_id: verificationId, status: 'Locked', attempts_remaining: 0 });
    const [transactItems] = transactions();
    expect(transactItems).toHaveLength(1);
    expect(transactItems![0]!.Update).toMatchObject({ ExpressionAttributeValues: { ':status': 'Locked', ':wrong': 0 } });
    // Locked for good: the hash is gone, so even the right code no longer compares.
    expect(parseBody(await verify(verifyEvent(verificationId, code), lambdaContext)).status).toBe('Locked');
  });

  it("decides again when the card's budget ran out between its read and its write, and answers Locked", async () => {
    const { verificationId, wrong } = await pendingChallenge();
    failing = (transactItems) => {
      if (transactItems.length === 1) return [];
      // Concurrent wrong codes on the card's other challenges spent its budget first.
      wrongCodesThisHour(10);
      return [1];
    };
    const response = await verify(verifyEvent(verificationId, wrong), lambdaContext);
    expect(parseBody(response)).toEqual({ verification_id: verificationId, status: 'Locked', attempts_remaining: 0 });
    expect(transactions().map((t) => t.length)).toEqual([26, 1]);
  });

  it('decides again when another attempt changed the verification first', async () => {
    const { verificationId, code } = await pendingChallenge();
    let raced = false;
    // A concurrent wrong attempt lands between this verify's read and its write.
    failing = () => {
      if (raced) return [];
      raced = true;
      items.get(`THREEDS#${verificationId}|THREEDS`)!.wrongAttempts += 1;
      return [0];
    };
    const response = await verify(verifyEvent(verificationId, code), lambdaContext);
    expect(parseBody(response)).toEqual({ verification_id: verificationId, status: 'Verified', attempts_remaining: 4 });
  });

  it('never logs the code', async () => {
    const { verificationId, code, wrong } = await pendingChallenge();
    await verify(verifyEvent(verificationId, wrong), lambdaContext);
    await verify(verifyEvent(verificationId, code), lambdaContext);
    const logs = captured.join('');
    expect(logs).toMatch(/"message":"request"/);
    expect(logs).not.toContain(code);
  });
});

/**
 * The 3DS routes through their wrapped handlers, over aws-sdk-client-mock: which cards may be
 * challenged (and that the challenge's transaction checks the same again), what a verification's
 * transaction carries for the card's budget of wrong codes, a verify that loses a race decides
 * again, and neither the code nor its hash input ever reaches a log line.
 *
 * Each read is answered by the test, matched on the key sent, and each transaction too (committed,
 * or cancelled on the items it names): nothing a request writes is read back, so DynamoDB's own
 * semantics (five wrong codes in a row, a code used twice, races) stay with
 * test/integration/three-ds.test.ts.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, NumberValue, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
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

/** Answers a Get of the item's key with the item (a later call for the same key wins). */
const serve = (item: Item) => ddb.on(GetCommand, { Key: { PK: item.PK, SK: item.SK } }).resolves({ Item: item });

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
function wrongCodesThisHour(count: number): Item {
  return { ...thisHourCounterKey(), wrongCodes: NumberValue.from(String(count)) };
}

const thisHourCounterKey = () => threeDsKeys.cardWrongCodes(CARD_ID, wrongCodeHourLabel(Math.floor(Date.now() / HOUR_MS)));

function transactions(): TransactItems[] {
  return ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems!);
}

/** A transaction cancelled on the items at `failed`: one reason per item, in item order. */
function cancelledOn(failed: (transactItems: TransactItems) => number[]) {
  return (input: TransactWriteCommandInput) => {
    const transactItems = input.TransactItems!;
    throw new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: transactItems.map((_, i) => ({ Code: failed(transactItems).includes(i) ? 'ConditionalCheckFailed' : 'None' })),
    });
  };
}

const captured = captureLogs();
beforeEach(() => {
  // Date frozen at the real time (the challenge's own clock, nowIso, reads performance, which is
  // not faked), so the test and the handler name the same hourly counter.
  const realNow = Date.now();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(realNow);
  ddb.reset();
  ddb.on(GetCommand).resolves({});
  serve(cardItem());
  serve({ PK: `BUSINESS#${TEST_BUSINESS_ID}`, SK: 'PROFILE', businessId: TEST_BUSINESS_ID, name: 'speed pay', timezone: 'UTC' });
  ddb.on(TransactWriteCommand).resolves({});
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

/**
 * Makes a challenge (its transaction answered as committed) and serves the verification it wrote to
 * the next reads. The code is read as only the delivery function can: from the sealed copy in the
 * outbox event the same transaction wrote.
 */
async function pendingChallenge(): Promise<{ verificationId: string; verification: Item; code: string; wrong: string }> {
  const { verification_id: verificationId } = parseBody(await challenge(challengeEvent(), lambdaContext));
  const written = transactions()[0]!.filter((entry) => entry.Put).map((entry) => entry.Put!.Item as Item);
  const verification = written.find((item) => item.entity === 'three_ds_verification')!;
  const event = written.find((item) => item.entity === 'event')!;
  const code = await openSecret<string>(event.otpSealed, { business_id: TEST_BUSINESS_ID, event_id: event.eventId, purpose: 'otp' });
  serve(verification);
  ddb.resetHistory();
  return { verificationId, verification, code, wrong: String((Number(code) + 1) % 1e6).padStart(6, '0') };
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
    // The first read sees the card Active; the transaction's check of the card fails; the re-read sees it Locked.
    ddb.on(GetCommand, { Key: { PK: `CARD#${CARD_ID}`, SK: 'CARD' } }).resolvesOnce({ Item: cardItem() }).resolves({ Item: cardItem({ status: 'Locked' }) });
    ddb.on(TransactWriteCommand).callsFake(cancelledOn((transactItems) => [indexOn(transactItems, { PK: `CARD#${CARD_ID}`, SK: 'CARD' })]));
    const response = await challenge(challengeEvent(), lambdaContext);
    expect(response.statusCode).toBe(409);
    expect(parseBody(response).error.code).toBe('card_locked');
    expect(ddb).toHaveReceivedCommandOnce(TransactWriteCommand);
  });

  it("checks in its transaction that the card's budget of wrong codes has room this hour, and for a B2C card that its user is Active", async () => {
    serve(cardItem({ mode: 'B2C', userId: USER_ID }));
    serve(userItem('Active'));
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
    serve(wrongCodesThisHour(10));
    const response = await challenge(challengeEvent(), lambdaContext);
    expect(response.statusCode).toBe(409);
    expect(parseBody(response).error.code).toBe('otp_attempts_exhausted');
    expect(transactions()).toEqual([]);
  });

  it('is refused 409 otp_attempts_exhausted when the budget runs out while it is being made', async () => {
    // The first read finds no wrong codes; the transaction's check of the counter fails; the re-read finds 10.
    ddb.on(GetCommand, { Key: thisHourCounterKey() }).resolvesOnce({}).resolves({ Item: wrongCodesThisHour(10) });
    ddb.on(TransactWriteCommand).callsFake(cancelledOn((transactItems) => [indexOn(transactItems, thisHourCounterKey())]));
    const response = await challenge(challengeEvent(), lambdaContext);
    expect(response.statusCode).toBe(409);
    expect(parseBody(response).error.code).toBe('otp_attempts_exhausted');
    expect(ddb).toHaveReceivedCommandOnce(TransactWriteCommand);
  });

  it('is refused 409 card_expired past the expiry month, decided from the issue date without opening the card bundle', async () => {
    const sixYearsAgo = new Date();
    sixYearsAgo.setUTCFullYear(sixYearsAgo.getUTCFullYear() - 6);
    serve(cardItem({ createdAt: sixYearsAgo.toISOString() }));
    const response = await challenge(challengeEvent(), lambdaContext);
    expect(response.statusCode).toBe(409);
    expect(parseBody(response).error.code).toBe('card_expired');
    expect(transactions()).toEqual([]);
  });

  it('is refused 409 user_suspended for a B2C card whose user is suspended, also when that happens while it is being made', async () => {
    serve(cardItem({ mode: 'B2C', userId: USER_ID }));
    serve(userItem('Suspended'));
    const suspended = await challenge(challengeEvent(), lambdaContext);
    expect(suspended.statusCode).toBe(409);
    expect(parseBody(suspended).error.code).toBe('user_suspended');
    expect(transactions()).toEqual([]);

    ddb.on(GetCommand, { Key: { PK: `USER#${USER_ID}`, SK: 'PROFILE' } }).resolvesOnce({ Item: userItem('Active') }).resolves({ Item: userItem('Suspended') });
    ddb.on(TransactWriteCommand).callsFake(cancelledOn((transactItems) => [indexOn(transactItems, { PK: `USER#${USER_ID}`, SK: 'PROFILE' })]));
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
    // Four wrong codes, then Locked at the fifth, through HTTP: test/integration/three-ds.test.ts.
    const { verificationId, verification, wrong } = await pendingChallenge();
    serve({ ...verification, wrongAttempts: NumberValue.from('4') });
    const response = await verify(verifyEvent(verificationId, wrong), lambdaContext);
    expect(parseBody(response)).toEqual({ verification_id: verificationId, status: 'Locked', attempts_remaining: 0 });
    const [transactItems] = transactions();
    expect(transactItems).toHaveLength(26);
    expect(transactItems![0]!.Update).toMatchObject({ ExpressionAttributeValues: { ':status': 'Locked', ':read': 4, ':wrong': 5 } });
    expect(transactItems![0]!.Update!.UpdateExpression).toContain('REMOVE otpHash');
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
    serve(wrongCodesThisHour(10));
    const response = await verify(verifyEvent(verificationId, code), lambdaContext);
    expect(parseBody(response)).toEqual({ verification_id: verificationId, status: 'Locked', attempts_remaining: 0 });
    const [transactItems] = transactions();
    expect(transactItems).toHaveLength(1);
    expect(transactItems![0]!.Update).toMatchObject({ ExpressionAttributeValues: { ':status': 'Locked', ':wrong': 0 } });
    // Locked for good: the hash is removed, so even the right code no longer compares.
    expect(transactItems![0]!.Update!.UpdateExpression).toContain('REMOVE otpHash');
  });

  it("decides again when the card's budget ran out between its read and its write, and answers Locked", async () => {
    const { verificationId, wrong } = await pendingChallenge();
    // Concurrent wrong codes on the card's other challenges spent its budget first: this hour's
    // counter read as empty, fails the transaction's condition, then reads as 10.
    ddb.on(GetCommand, { Key: thisHourCounterKey() }).resolvesOnce({}).resolves({ Item: wrongCodesThisHour(10) });
    ddb.on(TransactWriteCommand).callsFakeOnce(cancelledOn(() => [1])).resolves({});
    const response = await verify(verifyEvent(verificationId, wrong), lambdaContext);
    expect(parseBody(response)).toEqual({ verification_id: verificationId, status: 'Locked', attempts_remaining: 0 });
    expect(transactions().map((t) => t.length)).toEqual([26, 1]);
  });

  it('decides again when another attempt changed the verification first', async () => {
    const { verificationId, verification, code } = await pendingChallenge();
    // A concurrent wrong attempt lands between this verify's read and its write.
    ddb
      .on(GetCommand, { Key: { PK: verification.PK, SK: verification.SK } })
      .resolvesOnce({ Item: verification })
      .resolves({ Item: { ...verification, wrongAttempts: NumberValue.from('1') } });
    ddb.on(TransactWriteCommand).callsFakeOnce(cancelledOn(() => [0])).resolves({});
    const response = await verify(verifyEvent(verificationId, code), lambdaContext);
    expect(parseBody(response)).toEqual({ verification_id: verificationId, status: 'Verified', attempts_remaining: 4 });
    expect(transactions().map((t) => t[0]!.Update!.ExpressionAttributeValues![':read'])).toEqual([0, 1]);
  });

  it('never logs the code', async () => {
    const { verificationId, code, wrong } = await pendingChallenge();
    await verify(verifyEvent(verificationId, wrong), lambdaContext);
    await verify(verifyEvent(verificationId, code), lambdaContext);
    const logs = captured.join('');
    expect(logs).toMatch(/"message":"request"/);
    // Ids and times in the lines are digits too: six of them may spell the code by chance.
    const withoutIdsAndTimes = logs.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>').replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, '<time>');
    expect(withoutIdsAndTimes).not.toContain(code);
  });
});

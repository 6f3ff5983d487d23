/**
 * The 3DS routes through their wrapped handlers, over a small in-memory table (aws-sdk-client-mock):
 * a card locked while a challenge is being made gets none, a verify that loses a race decides again,
 * and neither the code nor its hash input ever reaches a log line.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as challenge } from '../../../functions/simulate/create-3ds-challenge.ts';
import { handler as verify } from '../../../functions/simulate/verify-3ds-challenge.ts';
import { openSecret } from '../../../shared/crypto/envelope.ts';
import { captureLogs } from '../../support/capture-logs.ts';
import { apiEvent, lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const CARD_ID = '0190a3c4-0000-7000-8000-00000000c0de';

type Item = Record<string, any>;
let items: Map<string, Item>;
/** Lets a test act between a handler's read and its write. */
let beforeTransact: () => void;
let beforeUpdate: (input: UpdateCommandInput) => void;

const key = (k: { PK: string; SK: string }) => `${k.PK}|${k.SK}`;

function cardItem(status: string): Item {
  return {
    PK: `CARD#${CARD_ID}`, SK: 'CARD', entity: 'card', cardId: CARD_ID, businessId: TEST_BUSINESS_ID, mode: 'B2B', form: 'virtual', status,
    currency: 'HKD', maskedNumber: '356772******8213', last4: '8213', limits: {}, createdAt: 't', createdBy: 'k', updatedAt: 't',
    statusChangedAt: 't', statusChangedBy: 'k', version: 1, secrets: 'sealed',
  };
}

const captured = captureLogs();
beforeEach(() => {
  items = new Map();
  items.set(key({ PK: `CARD#${CARD_ID}`, SK: 'CARD' }), cardItem('Active'));
  items.set(key({ PK: `BUSINESS#${TEST_BUSINESS_ID}`, SK: 'PROFILE' }), { businessId: TEST_BUSINESS_ID, name: 'speed pay', timezone: 'UTC' });
  beforeTransact = () => {};
  beforeUpdate = () => {};
  ddb.reset();
  ddb.on(GetCommand).callsFake((input) => ({ Item: structuredClone(items.get(key(input.Key))) }));
  ddb.on(TransactWriteCommand).callsFake((input) => {
    beforeTransact();
    const card = items.get(key({ PK: `CARD#${CARD_ID}`, SK: 'CARD' }));
    if (card?.status !== 'Active') {
      throw new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }, { Code: 'None' }] });
    }
    for (const entry of input.TransactItems ?? []) if (entry.Put) items.set(key(entry.Put.Item as never), structuredClone(entry.Put.Item));
    return {};
  });
  // Verification updates: `#status = :pending AND wrongAttempts = :read [AND otpExpiresAtMs > :now]`.
  ddb.on(UpdateCommand).callsFake((input: UpdateCommandInput) => {
    beforeUpdate(input);
    const item = items.get(key(input.Key as never))!;
    const v = input.ExpressionAttributeValues!;
    if (item.status !== 'Pending' || item.wrongAttempts !== v[':read']) {
      throw new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
    }
    item.status = v[':status'];
    item.wrongAttempts = v[':wrong'];
    if (input.UpdateExpression!.includes('REMOVE otpHash')) delete item.otpHash;
    return {};
  });

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

describe('3DS routes', () => {
  it('refuse a challenge when the card is locked while it is being made (the transaction checks the card)', async () => {
    beforeTransact = () => items.set(key({ PK: `CARD#${CARD_ID}`, SK: 'CARD' }), cardItem('Locked'));
    const response = await challenge(challengeEvent(), lambdaContext);
    expect(response.statusCode).toBe(409);
    expect(parseBody(response).error.code).toBe('card_locked');
    expect([...items.values()].filter((item) => item.entity === 'event')).toEqual([]);
  });

  it('decide again when another attempt changed the verification first', async () => {
    const { verification_id } = parseBody(await challenge(challengeEvent(), lambdaContext));
    const code = await codeOf(verification_id);
    let raced = false;
    // A concurrent wrong attempt lands between this verify's read and its write.
    beforeUpdate = () => {
      if (raced) return;
      raced = true;
      const item = items.get(`THREEDS#${verification_id}|THREEDS`)!;
      item.wrongAttempts += 1;
    };
    const response = await verify(verifyEvent(verification_id, code), lambdaContext);
    expect(parseBody(response)).toEqual({ verification_id, status: 'Verified', attempts_remaining: 4 });
  });

  it('never log the code', async () => {
    const { verification_id } = parseBody(await challenge(challengeEvent(), lambdaContext));
    const code = await codeOf(verification_id);
    await verify(verifyEvent(verification_id, String((Number(code) + 1) % 1e6).padStart(6, '0')), lambdaContext);
    await verify(verifyEvent(verification_id, code), lambdaContext);
    const logs = captured.join('');
    expect(logs).toMatch(/"message":"request"/);
    expect(logs).not.toContain(code);
  });
});

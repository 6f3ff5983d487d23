/**
 * What the engine does when the authorization transaction does not go through for a reason other
 * than a decline: the card changed under it (re-read, decide again), another transaction touched
 * the same items (retried), or DynamoDB throttles (retried, then a 503 that reveals nothing). A
 * network authorization id that is already claimed: network-ids.test.ts.
 */
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as simulateAuthorize } from '../../../functions/simulate/create-authorization.ts';
import { lambdaContext, parseBody } from '../../support/events.ts';
import { businessItem, CARD_ID, cancelled, cardItem, serveItems, simulateAuthorizationEvent } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);

/** A B2B approval: [daily] [monthly] [lifetime] [daily count] [hold] [card check] [transaction] [posting] [event] [delivery record]. */
const CARD_CHECK = 5;
const B2B_APPROVAL_ITEMS = 10;

function reasons(failures: Record<number, string>): string[] {
  return Array.from({ length: B2B_APPROVAL_ITEMS }, (_, index) => failures[index] ?? 'None');
}

function transactions() {
  return ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems as Record<string, any>[]);
}

function cardReads() {
  return ddb.commandCalls(GetCommand).filter((call) => call.args[0].input.Key?.PK === `CARD#${CARD_ID}`);
}

beforeEach(() => {
  ddb.reset();
});

describe('the card changed since it was read', () => {
  it('reads the card again and declines with card_locked when it was locked meanwhile', async () => {
    serveItems(ddb, [businessItem()]);
    ddb
      .on(GetCommand, { Key: { PK: `CARD#${CARD_ID}`, SK: 'CARD' } })
      .resolvesOnce({ Item: cardItem({ version: 3 }) })
      .resolves({ Item: cardItem({ status: 'Locked', version: 4 }) });
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled(reasons({ [CARD_CHECK]: 'ConditionalCheckFailed' }))).resolves({});

    const result = await simulateAuthorize(simulateAuthorizationEvent({}), lambdaContext);

    expect(parseBody(result)).toMatchObject({ status: 'Declined', decline_reason: 'card_locked' });
    expect(cardReads()).toHaveLength(2);
    expect(cardReads()[1]!.args[0].input.ConsistentRead).toBe(true);
    const [approval, decline] = transactions();
    expect(approval![CARD_CHECK]!.ConditionCheck.ExpressionAttributeValues).toEqual({ ':version': 3 });
    expect(decline).toHaveLength(3);
  });

  it('decides again under the new limits and pins the new version', async () => {
    serveItems(ddb, [businessItem()]);
    ddb
      .on(GetCommand, { Key: { PK: `CARD#${CARD_ID}`, SK: 'CARD' } })
      .resolvesOnce({ Item: cardItem({ version: 1 }) })
      .resolves({ Item: cardItem({ version: 2, limits: { daily: 50_000n } }) });
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled(reasons({ [CARD_CHECK]: 'ConditionalCheckFailed' }))).resolves({});

    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);

    expect(parseBody(result).status).toBe('Authorized');
    const [, retried] = transactions();
    expect(retried).toHaveLength(B2B_APPROVAL_ITEMS);
    expect(retried![CARD_CHECK]!.ConditionCheck.ExpressionAttributeValues).toEqual({ ':version': 2 });
    // The daily counter is now conditional on the room left under the new limit.
    expect(retried![0]!.Update).toMatchObject({ ConditionExpression: 'attribute_not_exists(spent) OR spent <= :room' });
    expect(retried![0]!.Update.ExpressionAttributeValues[':room']).toBe(50_000n - 1000n);
  });

  it('gives up with a 503 when the card keeps changing', async () => {
    serveItems(ddb, [cardItem(), businessItem()]);
    ddb.on(TransactWriteCommand).rejects(cancelled(reasons({ [CARD_CHECK]: 'ConditionalCheckFailed' })));

    const result = await simulateAuthorize(simulateAuthorizationEvent({}), lambdaContext);

    expect(result.statusCode).toBe(503);
    expect(parseBody(result).error.code).toBe('service_unavailable');
    expect(transactions().length).toBeGreaterThan(1);
  });
});

describe('a transaction conflict', () => {
  it('is retried with the same items and then approves', async () => {
    serveItems(ddb, [cardItem(), businessItem()]);
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled(reasons({ 3: 'TransactionConflict' }))).resolves({});

    const result = await simulateAuthorize(simulateAuthorizationEvent({}), lambdaContext);

    expect(result.statusCode).toBe(201);
    expect(parseBody(result).status).toBe('Authorized');
    const [first, second] = transactions();
    expect(second).toEqual(first);
    // A conflict is not a change of the card: nothing is read again.
    expect(cardReads()).toHaveLength(1);
  });
});

describe('throttling inside the transaction', () => {
  it('is retried, and after the retries answers 503 service_unavailable with nothing of DynamoDB in the body', async () => {
    serveItems(ddb, [cardItem(), businessItem()]);
    ddb.on(TransactWriteCommand).rejects(cancelled(reasons({ 0: 'ThrottlingError', 3: 'ThrottlingError' })));

    const result = await simulateAuthorize(simulateAuthorizationEvent({}), lambdaContext);

    expect(result.statusCode).toBe(503);
    const body = parseBody(result);
    expect(body.error).toEqual({ code: 'service_unavailable', message: expect.any(String), request_id: result.headers!['x-request-id'] });
    expect(result.body).not.toMatch(/throttl|dynamo|cancel|transact/i);
    expect(transactions().length).toBeGreaterThan(1);
  });
});

/**
 * `GET /v1/transactions` through its wrapped handler: which index each filter queries (the card's,
 * the user's or the business's list), the filters it sends, the 404s of a card or user that is not
 * the caller's, and cursors bound to the filters. Pages and filters against DynamoDB's own
 * semantics: test/integration/spending-controls.test.ts.
 */
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as listTransactions } from '../../../functions/transactions/list-transactions.ts';
import { apiEvent, lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';
import { CARD_ID, cardItem, OTHER_BUSINESS_ID, serveItems, transactionItem, USER_ID } from '../authorizations/support.ts';
import { listShardOf, listShards } from '../../../shared/db/keys.ts';

const ddb = mockClient(DynamoDBDocumentClient);

const list = (query: Record<string, string> = {}, authorizer?: Record<string, string>) =>
  listTransactions(apiEvent({ method: 'GET', path: '/v1/transactions', resource: '/v1/transactions', query, ...(authorizer ? { authorizer } : {}) }), lambdaContext);

const userItem = (businessId = TEST_BUSINESS_ID) => ({
  PK: `USER#${USER_ID}`, SK: 'PROFILE', entity: 'user', userId: USER_ID, businessId, status: 'Active', externalId: null,
  createdAt: 't', updatedAt: 't', ekyc: 'sealed', ekycFingerprints: { firstName: 'f', lastName: 'l', idNumber: 'i' },
});

function lastQuery() {
  const calls = ddb.commandCalls(QueryCommand);
  return calls[calls.length - 1]!.args[0].input;
}

beforeEach(() => {
  ddb.reset();
  serveItems(ddb, [cardItem({ mode: 'B2C' }), userItem()]);
  // The transaction in its card's and user's lists, and in shard 0 of its business's.
  ddb.on(QueryCommand).resolves({ Items: [] });
  for (const partition of [`BUSINESS#${TEST_BUSINESS_ID}#TXNS`, `USER#${USER_ID}#TXNS`, `CARD#${CARD_ID}#TXNS`]) {
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':partition': partition } }).resolves({ Items: [transactionItem()] });
  }
});

describe('GET /v1/transactions', () => {
  it("lists the business's transactions newest first from every write shard of its index partition", async () => {
    const result = await list();
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toMatchObject({ data: [{ card: CARD_ID, status: 'Authorized' }], next_cursor: null });
    const inputs = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.ExpressionAttributeValues![':partition'])).toEqual(listShards(`BUSINESS#${TEST_BUSINESS_ID}#TXNS`));
    for (const input of inputs) {
      expect(input).toMatchObject({ IndexName: 'GSI2', KeyConditionExpression: 'GSI2PK = :partition AND GSI2SK BETWEEN :from AND :to', ScanIndexForward: false });
      expect(input.FilterExpression).toBeUndefined();
    }
  });

  it("queries a user's own index partition with p_user_id, and filters status and type", async () => {
    await list({ p_user_id: USER_ID, status: 'Settled', type: 'Sales' });
    expect(lastQuery()).toMatchObject({
      IndexName: 'GSI3',
      ExpressionAttributeValues: { ':partition': `USER#${USER_ID}#TXNS`, ':status': 'Settled', ':type': 'Sales' },
      FilterExpression: '#status = :status AND #type = :type',
    });
  });

  it("queries the card's list with card_id, between two times, and keeps only the user's with both filters", async () => {
    await list({ card_id: CARD_ID, p_user_id: USER_ID, from: '2025-03-04T00:00:00Z', to: '2025-03-05T00:00:00Z' });
    expect(lastQuery()).toMatchObject({
      IndexName: 'GSI1',
      ExpressionAttributeValues: {
        ':partition': `CARD#${CARD_ID}#TXNS`,
        ':from': '2025-03-04T00:00:00.000000Z',
        ':to': '2025-03-05T00:00:00.000999Z~',
        ':userId': USER_ID,
      },
      FilterExpression: '#userId = :userId',
    });
  });

  it.each([
    [{ card_id: CARD_ID }, 'card_not_found'],
    [{ card_id: 'not-an-id' }, 'card_not_found'],
    [{ p_user_id: USER_ID }, 'user_not_found'],
  ])("is 404 for %j of another business (or no id at all): %s, querying nothing", async (query, code) => {
    const result = await list(query, { credential: 'business', businessId: OTHER_BUSINESS_ID, keyId: 'k' });
    expect(result.statusCode).toBe(404);
    expect(parseBody(result).error.code).toBe(code);
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it('is 400 on an unknown filter, an unknown type, or from after to', async () => {
    const queries: Record<string, string>[] = [{ merchant: 'x' }, { type: 'Purchase' }, { from: '2025-03-05T00:00:00Z', to: '2025-03-04T00:00:00Z' }];
    for (const query of queries) {
      const result = await list(query);
      expect(result.statusCode).toBe(400);
    }
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it('pages with a cursor bound to its filters: another filter refuses it', async () => {
    const listed: Record<string, any> = { ...transactionItem(), GSI2PK: `BUSINESS#${TEST_BUSINESS_ID}#TXNS`, GSI2SK: '2025-03-04T03:32:11.051702Z#a' };
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':partition': listed.GSI2PK } }).resolves({ Items: [listed, { ...listed, GSI2SK: '2025-03-04T03:32:10.051702Z#b' }] });
    const first = parseBody(await list({ limit: '1', status: 'Authorized' }));
    expect(first.next_cursor).toEqual(expect.any(String));

    const next = await list({ limit: '1', status: 'Authorized', cursor: first.next_cursor });
    expect(next.statusCode).toBe(200);
    // Every shard reads on from the last transaction shown (inclusive in the key condition, dropped after).
    expect(lastQuery().ExpressionAttributeValues![':to']).toBe(listed.GSI2SK);
    expect(parseBody(next).data).toHaveLength(1);

    ddb.resetHistory();
    const otherFilter = await list({ limit: '1', status: 'Settled', cursor: first.next_cursor });
    expect(otherFilter.statusCode).toBe(400);
    expect(parseBody(otherFilter).error.code).toBe('invalid_cursor');
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });
});

describe('a card transaction as stored', () => {
  it("carries the business's list keys, and the user's for a B2C card", async () => {
    // Written by an approval: the authorization handler tests assert the whole item; here only its list keys.
    const { approvalItems } = await import('../../../shared/db/transactions-repository.ts');
    const base = {
      transactionId: 't1', businessId: TEST_BUSINESS_ID, cardId: CARD_ID, mode: 'B2C' as const, userId: USER_ID, status: 'Authorized' as const, type: 'Sales' as const,
      transactionCurrency: 'USD', transactionAmount: '1', localCurrency: 'USD' as const, localAmount: 100n, fee: 0n, heldAmount: 100n, remainingHold: 100n,
      reversedAmount: 0n, settledAmount: null, windows: null, merchant: { merchantId: '', merchantName: '', merchantCountry: '', merchantCity: '', mcc: null },
      declineReason: null, networkAuthorizationId: null, createdAt: '2025-03-04T03:32:11.051702Z', updatedAt: '2025-03-04T03:32:11.051702Z', version: 1,
    };
    const items = approvalItems({
      transaction: base,
      owner: { kind: 'user', id: USER_ID },
      hold: { kind: 'owner' },
      limits: { transaction: 0n, daily: 0n, monthly: 0n, lifetime: 0n },
      periods: { daily: '2025-03-04', monthly: '2025-03', lifetime: 'lifetime' },
      cardVersion: 1,
      posting: { postingId: 'p1', kind: 'authorization', reference: 't1', legs: [], createdAt: base.createdAt },
      event: { eventId: 'e1', businessId: TEST_BUSINESS_ID, type: 'transaction.authorization', queue: 'events', payload: '{}', createdAt: base.createdAt },
    });
    const put = items.find((entry) => entry.item.Put?.Item?.entity === 'card_transaction')!.item.Put!.Item!;
    expect(put).toMatchObject({
      GSI1PK: `CARD#${CARD_ID}#TXNS`,
      GSI2PK: listShardOf(`BUSINESS#${TEST_BUSINESS_ID}#TXNS`, 't1'),
      GSI2SK: '2025-03-04T03:32:11.051702Z#t1',
      GSI3PK: `USER#${USER_ID}#TXNS`,
      GSI3SK: '2025-03-04T03:32:11.051702Z#t1',
    });
  });
});

/**
 * Network ids are per card (API.md): the first authorization with a `network_authorization_id`
 * claims it for its card and terms, in its own transaction, approved or declined. A repeat with
 * the same card, amount, currency and merchant gets the first decision (`200`); the same id with
 * another card, amount, currency or merchant is `409 network_authorization_conflict`, and never
 * sees the other authorization.
 *
 * Each test lets a first request commit, then serves what it wrote and scripts the second
 * transaction's cancellation on the claim, the way DynamoDB answers a taken id.
 */
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as networkAuthorize } from '../../../functions/network/create-authorization.ts';
import { lambdaContext, parseBody } from '../../support/events.ts';
import {
  businessItem,
  CARD_ID,
  CARD_NUMBER,
  cancelled,
  cardItem,
  networkAuthorizationEvent,
  OTHER_BUSINESS_ID,
  panIndexItem,
  serveItems,
} from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);

const OTHER_CARD_ID = '0190a3c4-0000-7000-8000-00000000c002';
const OTHER_CARD_NUMBER = '3567720000000028';

type Item = Record<string, any>;

function transactions(): Item[][] {
  return ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems as Item[]);
}

const claimIndex = (items: Item[]) => items.findIndex((item) => item.Put?.Item?.entity === 'network_authorization_claim');
const putOf = (items: Item[], entity: string) => items.find((item) => item.Put?.Item?.entity === entity)!.Put.Item;

/** Both cards, of two businesses, findable by number. */
async function cardsOfTwoBusinesses(first: Parameters<typeof cardItem>[0] = {}): Promise<Item[]> {
  return [
    cardItem(first),
    cardItem({ cardId: OTHER_CARD_ID, businessId: OTHER_BUSINESS_ID }),
    businessItem(),
    businessItem(OTHER_BUSINESS_ID),
    await panIndexItem(),
    await panIndexItem(OTHER_CARD_ID, OTHER_BUSINESS_ID, OTHER_CARD_NUMBER),
  ];
}

/** Every later transaction fails the claim's condition, as a taken id does. */
function claimTaken() {
  ddb.on(TransactWriteCommand).callsFake((input: { TransactItems: Item[] }) => {
    throw cancelled(input.TransactItems.map((_, index) => (index === claimIndex(input.TransactItems) ? 'ConditionalCheckFailed' : 'None')));
  });
}

/**
 * Sends `first` and lets it commit; then serves `items` with its claim and transaction, and makes
 * later transactions fail on the claim. Returns the first answer and what it wrote.
 */
async function afterFirst(first: ReturnType<typeof networkAuthorizationEvent>, items: Item[]) {
  serveItems(ddb, items);
  const answer = await networkAuthorize(first, lambdaContext);
  const transaction = transactions().at(-1)!;
  const written = [putOf(transaction, 'network_authorization_claim'), putOf(transaction, 'card_transaction')];
  serveItems(ddb, [...items, ...written]);
  claimTaken();
  ddb.resetHistory();
  return { answer, written };
}

beforeEach(() => {
  ddb.reset();
});

describe('the first authorization with a network id', () => {
  it('claims the id for its card in the approval transaction, under a transaction id of its own', async () => {
    serveItems(ddb, await cardsOfTwoBusinesses());

    const result = await networkAuthorize(networkAuthorizationEvent('net-claim-1'), lambdaContext);

    expect(result.statusCode).toBe(201);
    const [approval] = transactions();
    const claim = approval![claimIndex(approval!)]!.Put;
    expect(claim).toMatchObject({
      Item: { PK: 'NETAUTH#net-claim-1', SK: 'NETAUTH', cardId: CARD_ID, transactionId: parseBody(result).id, fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) },
      ConditionExpression: 'attribute_not_exists(PK)',
    });
    expect(putOf(approval!, 'card_transaction')).toMatchObject({ transactionId: parseBody(result).id, networkAuthorizationId: 'net-claim-1' });
  });

  it('does not derive the transaction id from the network id', async () => {
    serveItems(ddb, await cardsOfTwoBusinesses());

    const first = parseBody(await networkAuthorize(networkAuthorizationEvent('net-claim-2'), lambdaContext));
    const second = parseBody(await networkAuthorize(networkAuthorizationEvent('net-claim-2', { card_number: OTHER_CARD_NUMBER }), lambdaContext));

    expect(first.id).not.toBe(second.id);
  });

  it('claims the id with a decline too, so a repeat gets that decline', async () => {
    serveItems(ddb, await cardsOfTwoBusinesses({ status: 'Locked' }));

    const result = await networkAuthorize(networkAuthorizationEvent('net-claim-3'), lambdaContext);

    expect(parseBody(result)).toMatchObject({ status: 'Declined', decline_reason: 'card_locked' });
    const [decline] = transactions();
    expect(decline).toHaveLength(4);
    expect(decline![claimIndex(decline!)]!.Put).toMatchObject({ Item: { PK: 'NETAUTH#net-claim-3', cardId: CARD_ID }, ConditionExpression: 'attribute_not_exists(PK)' });
  });
});

describe('a repeat of a network id', () => {
  it('answers 200 with the first decision for the same card, amount, currency and merchant, and moves nothing again', async () => {
    const { answer: first } = await afterFirst(networkAuthorizationEvent('net-repeat-1'), await cardsOfTwoBusinesses());

    const repeat = await networkAuthorize(networkAuthorizationEvent('net-repeat-1'), lambdaContext);

    expect(first.statusCode).toBe(201);
    expect(repeat.statusCode).toBe(200);
    expect(parseBody(repeat)).toEqual(parseBody(first));
    // One attempt, cancelled on the claim alone: no hold, no decline recorded, nothing retried.
    expect(transactions()).toHaveLength(1);
    const reads = ddb.commandCalls(GetCommand).map((call) => call.args[0].input);
    expect(reads).toContainEqual(expect.objectContaining({ Key: { PK: 'NETAUTH#net-repeat-1', SK: 'NETAUTH' }, ConsistentRead: true }));
  });

  it('counts "10.00" as the same amount as "10"', async () => {
    const { answer: first } = await afterFirst(networkAuthorizationEvent('net-repeat-2', { amount: '10' }), await cardsOfTwoBusinesses());

    const repeat = await networkAuthorize(networkAuthorizationEvent('net-repeat-2', { amount: '10.00' }), lambdaContext);

    expect(repeat.statusCode).toBe(200);
    expect(parseBody(repeat).id).toBe(parseBody(first).id);
  });

  it('answers a repeat of a declined authorization with the same decline', async () => {
    const { answer: first, written } = await afterFirst(networkAuthorizationEvent('net-repeat-3'), await cardsOfTwoBusinesses({ status: 'Locked' }));
    // Unlocked since: the repeat still gets the first decision, not a new one.
    serveItems(ddb, [...(await cardsOfTwoBusinesses({ version: 2 })), ...written]);
    claimTaken();

    const repeat = await networkAuthorize(networkAuthorizationEvent('net-repeat-3'), lambdaContext);

    expect(repeat.statusCode).toBe(200);
    expect(parseBody(repeat)).toEqual(parseBody(first));
    expect(parseBody(repeat)).toMatchObject({ status: 'Declined', decline_reason: 'card_locked' });
  });

  it('is a repeat even when the balance would now decline it: the taken id decides first', async () => {
    const { answer: first } = await afterFirst(networkAuthorizationEvent('net-repeat-4'), await cardsOfTwoBusinesses());
    ddb.on(TransactWriteCommand).callsFake((input: { TransactItems: Item[] }) => {
      const hold = input.TransactItems.findIndex((item) => item.Update?.Key?.SK === 'BALANCE#USD');
      throw cancelled(input.TransactItems.map((_, index) => (index === claimIndex(input.TransactItems) || index === hold ? 'ConditionalCheckFailed' : 'None')));
    });

    const repeat = await networkAuthorize(networkAuthorizationEvent('net-repeat-4'), lambdaContext);

    expect(repeat.statusCode).toBe(200);
    expect(parseBody(repeat)).toEqual(parseBody(first));
    expect(transactions()).toHaveLength(1);
  });

  it('records under an Idempotency-Key the 200 it answered, not the approval that never committed', async () => {
    await afterFirst(networkAuthorizationEvent('net-repeat-5'), await cardsOfTwoBusinesses());
    ddb.on(PutCommand).resolves({});
    const event = networkAuthorizationEvent('net-repeat-5');
    event.headers['Idempotency-Key'] = 'network-retry-1';

    const result = await networkAuthorize(event, lambdaContext);

    expect(result.statusCode).toBe(200);
    const completed = ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item!).find((item) => item.state === 'completed');
    expect(completed).toMatchObject({ statusCode: 200 });
  });
});

describe('the same network id with other terms', () => {
  it.each([
    ['another card, of another business', { card_number: OTHER_CARD_NUMBER }],
    ['another amount', { amount: '10.01' }],
    ['another currency', { currency: 'HKD' }],
    ['another merchant name', { merchant_name: 'Tea' }],
    ['a merchant category code the first did not have', { mcc: '5812' }],
  ])('answers 409 network_authorization_conflict for %s, revealing nothing of the first', async (_, change) => {
    const { answer: first } = await afterFirst(networkAuthorizationEvent('net-conflict-1'), await cardsOfTwoBusinesses());

    const result = await networkAuthorize(networkAuthorizationEvent('net-conflict-1', change), lambdaContext);

    expect(result.statusCode).toBe(409);
    const body = parseBody(result);
    expect(body.error).toMatchObject({ code: 'network_authorization_conflict' });
    expect(result.body).not.toContain(parseBody(first).id);
    expect(result.body).not.toContain(CARD_ID);
    // Nothing is recorded for the conflicting request: one attempt, cancelled on the claim.
    expect(transactions()).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand).some((call) => call.args[0].input.Key?.SK === 'TXN')).toBe(false);
  });

  it('declines nothing and answers 409 when the conflicting card would have been declined', async () => {
    const items = await cardsOfTwoBusinesses();
    items[1] = cardItem({ cardId: OTHER_CARD_ID, businessId: OTHER_BUSINESS_ID, status: 'Locked' });
    await afterFirst(networkAuthorizationEvent('net-conflict-2'), items);

    const result = await networkAuthorize(networkAuthorizationEvent('net-conflict-2', { card_number: OTHER_CARD_NUMBER }), lambdaContext);

    expect(result.statusCode).toBe(409);
    expect(transactions()).toHaveLength(1);
    expect(transactions()[0]!.map((item) => item.Put?.Item?.entity ?? item.Update?.Key?.SK ?? 'check')).toEqual([
      'network_authorization_claim',
      'card_transaction',
      'event',
      'webhook_delivery',
    ]);
  });
});

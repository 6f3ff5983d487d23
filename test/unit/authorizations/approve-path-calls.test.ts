/**
 * The approve path's budget of DynamoDB calls (ARCHITECTURE.md): once the container is warm, an
 * approval is ONE read round trip (the card, strongly consistent) and ONE `TransactWriteItems`.
 * The business timezone and, on the network route, the card-number index are immutable and read
 * only by the first call of a container.
 */
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as networkAuthorize } from '../../../functions/network/create-authorization.ts';
import { handler as simulateAuthorize } from '../../../functions/simulate/create-authorization.ts';
import { lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';
import { businessItem, CARD_ID, cardItem, networkAuthorizationEvent, panIndexItem, serveItems, simulateAuthorizationEvent } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);

/** Every command the second (warm) call sent, by name, with its input. */
function sentCommands() {
  return ddb.calls().map((call) => ({ name: call.args[0].constructor.name, input: call.args[0].input as Record<string, any> }));
}

function expectOneCardReadAndOneTransaction(commands: ReturnType<typeof sentCommands>, itemCount: number) {
  expect(commands.map((command) => command.name)).toEqual(['GetCommand', 'TransactWriteCommand']);
  const [read, write] = commands;
  expect(read!.input).toMatchObject({ Key: { PK: `CARD#${CARD_ID}`, SK: 'CARD' }, ConsistentRead: true });
  expect(write!.input.TransactItems).toHaveLength(itemCount);
}

describe('the approve path', () => {
  beforeEach(async () => {
    ddb.reset();
    serveItems(ddb, [cardItem(), businessItem(), await panIndexItem()]);
  });

  it('reads the card once and writes one transaction on POST /v1/simulate/authorizations once warm', async () => {
    const first = await simulateAuthorize(simulateAuthorizationEvent({}), lambdaContext);
    expect(first.statusCode).toBe(201);
    ddb.resetHistory();

    const second = await simulateAuthorize(simulateAuthorizationEvent({ amount: '12.50' }), lambdaContext);

    expect(second.statusCode).toBe(201);
    expect(parseBody(second)).toMatchObject({ status: 'Authorized', local_amount: '-12.5' });
    // B2B with every limit off: 3 spend counters, the hold, the card check, the transaction,
    // the posting and the outbox event.
    expectOneCardReadAndOneTransaction(sentCommands(), 8);
  });

  it('reads the card once and writes one transaction on POST /network/authorizations once the number is known', async () => {
    const first = await networkAuthorize(networkAuthorizationEvent('net-approve-1'), lambdaContext);
    expect(first.statusCode).toBe(201);
    ddb.resetHistory();

    const second = await networkAuthorize(networkAuthorizationEvent('net-approve-2'), lambdaContext);

    expect(second.statusCode).toBe(201);
    expect(parseBody(second)).toMatchObject({ status: 'Authorized', card: CARD_ID });
    // The same 8 items plus the claim of the network's id: checking the id is a condition of
    // the same transaction, not another read.
    const commands = sentCommands();
    expectOneCardReadAndOneTransaction(commands, 9);
    const claim = commands[1]!.input.TransactItems.find((item: Record<string, any>) => item.Put?.Item?.PK === 'NETAUTH#net-approve-2');
    expect(claim?.Put).toMatchObject({ ConditionExpression: 'attribute_not_exists(PK)' });
  });

  it('adds only the cardholder check to the transaction of a B2C card', async () => {
    serveItems(ddb, [cardItem({ mode: 'B2C' }), businessItem()]);
    await simulateAuthorize(simulateAuthorizationEvent({}), lambdaContext);
    ddb.resetHistory();

    const second = await simulateAuthorize(simulateAuthorizationEvent({}), lambdaContext);

    expect(parseBody(second).status).toBe('Authorized');
    const commands = sentCommands();
    expectOneCardReadAndOneTransaction(commands, 9);
    const userCheck = commands[1]!.input.TransactItems.find((item: Record<string, any>) => item.ConditionCheck?.Key?.PK?.startsWith('USER#'));
    expect(userCheck?.ConditionCheck).toMatchObject({
      ConditionExpression: '#status = :active AND businessId = :businessId',
      ExpressionAttributeValues: { ':active': 'Active', ':businessId': TEST_BUSINESS_ID },
    });
  });

  it('reads the business timezone only on the first call of a container', async () => {
    // Earlier tests of this file warmed the cache for this business; a fresh business is read once.
    const businessId = '0190a3c4-0000-7000-8000-0000000000b9';
    serveItems(ddb, [cardItem({ businessId }), businessItem(businessId)]);
    const authorizer = { credential: 'business', businessId, keyId: 'k' };

    await simulateAuthorize(simulateAuthorizationEvent({}, authorizer), lambdaContext);
    await simulateAuthorize(simulateAuthorizationEvent({}, authorizer), lambdaContext);

    const businessReads = ddb.commandCalls(GetCommand).filter((call) => call.args[0].input.Key?.PK === `BUSINESS#${businessId}`);
    expect(businessReads).toHaveLength(1);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });
});

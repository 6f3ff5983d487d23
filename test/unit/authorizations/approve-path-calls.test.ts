/**
 * The approve path's budget of DynamoDB calls (ARCHITECTURE.md): once the container is warm, an
 * approval is ONE read round trip (the card, strongly consistent) and ONE `TransactWriteItems`.
 * The business timezone and, on the network route, the card-number index are immutable and read
 * only by the first call of a container; the business's default spending controls are read by the
 * first call and then once per `BUSINESS_CONTROLS_CACHE_SECONDS` at most.
 */
import { DynamoDBDocumentClient, GetCommand, NumberValue, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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
    // B2B with every limit off: 3 spend counters, the daily count, the hold, the card check, the
    // transaction, the posting, and the outbox event and its delivery record.
    expectOneCardReadAndOneTransaction(sentCommands(), 10);
  });

  it('reads the card once and writes one transaction on POST /network/authorizations once the number is known', async () => {
    const first = await networkAuthorize(networkAuthorizationEvent('net-approve-1'), lambdaContext);
    expect(first.statusCode).toBe(201);
    ddb.resetHistory();

    const second = await networkAuthorize(networkAuthorizationEvent('net-approve-2'), lambdaContext);

    expect(second.statusCode).toBe(201);
    expect(parseBody(second)).toMatchObject({ status: 'Authorized', card: CARD_ID });
    // The same 9 items plus the claim of the network's id: checking the id is a condition of
    // the same transaction, not another read.
    const commands = sentCommands();
    expectOneCardReadAndOneTransaction(commands, 11);
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
    expectOneCardReadAndOneTransaction(commands, 11);
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

    const businessReads = ddb.commandCalls(GetCommand).filter((call) => call.args[0].input.Key?.PK === `BUSINESS#${businessId}` && call.args[0].input.Key?.SK === 'PROFILE');
    expect(businessReads).toHaveLength(1);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });
});

describe('the approve path with spending controls on', () => {
  const businessId = '0190a3c4-0000-7000-8000-0000000000c7';
  const authorizer = { credential: 'business', businessId, keyId: 'k' };
  const controlsItem = (maxDailyCount: number) => ({
    PK: `BUSINESS#${businessId}`,
    SK: 'CONTROLS',
    entity: 'business_controls',
    businessId,
    controls: { allowedMccs: ['5814'], blockedMccs: [], allowedCountries: [], blockedCountries: ['KP'], maxDailyCount: NumberValue.from(String(maxDailyCount)) },
  });
  const cardControls = { allowedMccs: [], blockedMccs: ['7995'], allowedCountries: ['HK', 'SG'], blockedCountries: [], maxDailyCount: NumberValue.from('5') };
  const controlsReads = () => ddb.commandCalls(GetCommand).filter((call) => call.args[0].input.Key?.SK === 'CONTROLS');

  beforeEach(() => {
    ddb.reset();
    serveItems(ddb, [{ ...cardItem({ businessId }), controls: cardControls }, businessItem(businessId), controlsItem(3)]);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('still reads only the card and writes one transaction once warm, the count conditional on the stricter level', async () => {
    const event = () => simulateAuthorizationEvent({ mcc: '5814', merchant_country: 'HK' }, authorizer);
    expect(parseBody(await simulateAuthorize(event(), lambdaContext)).status).toBe('Authorized');
    ddb.resetHistory();

    const second = await simulateAuthorize(event(), lambdaContext);

    expect(parseBody(second).status).toBe('Authorized');
    const commands = sentCommands();
    expectOneCardReadAndOneTransaction(commands, 10);
    const count = commands[1]!.input.TransactItems.find((item: Record<string, any>) => item.Update?.Key?.SK?.startsWith('SPEND#daily_count#'));
    // The business's 3 is stricter than the card's 5.
    expect(count.Update).toMatchObject({ ConditionExpression: 'attribute_not_exists(approved) OR approved < :max', ExpressionAttributeValues: { ':max': 3 } });
  });

  it("reads the business's controls again only once their cache time has passed", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const event = () => simulateAuthorizationEvent({ mcc: '5814', merchant_country: 'HK' }, authorizer);
    await simulateAuthorize(event(), lambdaContext); // may be warm from the test above, or not
    vi.setSystemTime(new Date('2030-01-01T00:01:00Z'));
    ddb.resetHistory();

    await simulateAuthorize(event(), lambdaContext); // past the 30 s: reads them again
    await simulateAuthorize(event(), lambdaContext);
    vi.setSystemTime(new Date('2030-01-01T00:01:29Z'));
    await simulateAuthorize(event(), lambdaContext);

    expect(controlsReads()).toHaveLength(1);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('declines a refused merchant before any write but the decline record', async () => {
    await simulateAuthorize(simulateAuthorizationEvent({ mcc: '5814', merchant_country: 'HK' }, authorizer), lambdaContext);
    ddb.resetHistory();

    const result = await simulateAuthorize(simulateAuthorizationEvent({ mcc: '5814', merchant_country: 'US' }, authorizer), lambdaContext);

    expect(parseBody(result)).toMatchObject({ status: 'Declined', decline_reason: 'merchant_country_blocked' });
    const commands = sentCommands();
    expect(commands.map((command) => command.name)).toEqual(['GetCommand', 'TransactWriteCommand']);
    expect(commands[1]!.input.TransactItems).toHaveLength(3);
  });
});

/**
 * The deposit routes through their real wrappers, over aws-sdk-client-mock: what the one
 * transaction holds, and what each way it can be cancelled means (a repeated deposit, a lost
 * idempotency lease, a conflict that is retried).
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as networkDeposit } from '../../../functions/network/create-deposit.ts';
import { handler as simulateDeposit } from '../../../functions/simulate/create-deposit.ts';
import { resetConfigForTests } from '../../../shared/config.ts';
import { resetOperatorSettingsForTests } from '../../../shared/services/operator-settings.ts';
import { apiEvent, lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const ssm = mockClient(SSMClient);

const USER_ID = '0190a3c4-0000-7000-8000-00000000beef';
const OTHER_BUSINESS_ID = '0190a3c4-0000-7000-8000-0000000000f2';
const TRON_ADDRESS = 'TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH';
const TX_HASH = 'c0ffee'.padEnd(64, '0');
const DEPOSIT_KEY = { PK: `DEPOSIT#TRON#${TX_HASH}#0`, SK: 'DEPOSIT' };
const body = { chain: 'TRON', address: TRON_ADDRESS, asset: 'USDT', amount: '100', tx_hash: TX_HASH.toUpperCase(), log_index: 0 };

function addressIndex(businessId = TEST_BUSINESS_ID) {
  return { PK: `ADDRESS#tron#${TRON_ADDRESS}`, SK: 'ADDRESS', entity: 'wallet_address_index', userId: USER_ID, businessId };
}

/** Answers a Get of each item's key with that item; any other key reads as missing. */
function serve(items: Record<string, any>[]) {
  ddb.on(GetCommand).resolves({});
  for (const item of items) ddb.on(GetCommand, { Key: { PK: item.PK, SK: item.SK } }).resolves({ Item: item });
}

function cancelled(codes: string[]) {
  return new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });
}

const simulateEvent = (payload: unknown = body, headers: Record<string, string> = {}) =>
  apiEvent({ method: 'POST', path: '/v1/simulate/deposits', resource: '/v1/simulate/deposits', body: payload, headers });
const networkEvent = (payload: unknown = body, authorizer: Record<string, string> = { credential: 'chain', principal: 'chain-watcher' }) =>
  apiEvent({ method: 'POST', path: '/network/deposits', resource: '/network/deposits', body: payload, authorizer });

function transactItems(call = 0): Record<string, any>[] {
  return ddb.commandCalls(TransactWriteCommand)[call]!.args[0].input.TransactItems as Record<string, any>[];
}

beforeEach(() => {
  ddb.reset();
});

describe('POST /v1/simulate/deposits', () => {
  it('records the deposit, credits the user, posts the ledger and the Deposit event in ONE transaction', async () => {
    serve([addressIndex()]);
    ddb.on(TransactWriteCommand).resolves({});

    const result = await simulateDeposit(simulateEvent(), lambdaContext);

    expect(result.statusCode).toBe(201);
    const deposit = parseBody(result);
    expect(deposit).toMatchObject({ p_user_id: USER_ID, tx_hash: TX_HASH, credited_currency: 'USD', credited_amount: '100', fee: '0', status: 'Completed' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
    const [record, credit, postingPut, event, delivery] = transactItems();
    expect(transactItems()).toHaveLength(5);
    expect(record!.Put).toMatchObject({ Item: { ...DEPOSIT_KEY, depositId: deposit.id, net: '10000' }, ConditionExpression: 'attribute_not_exists(PK)' });
    expect(credit!.Update).toMatchObject({ Key: { PK: `USER#${USER_ID}`, SK: 'BALANCE#USD' }, ExpressionAttributeValues: { ':available': 10_000n } });
    expect(credit!.Update.ConditionExpression).toBeUndefined();
    expect(postingPut!.Put.Item).toMatchObject({
      kind: 'deposit',
      reference: deposit.id,
      legs: [
        { account: 'chain:USD', currency: 'USD', amount: '-10000' },
        { account: `user:${USER_ID}:USD:available`, currency: 'USD', amount: '10000' },
      ],
    });
    expect(event!.Put.Item).toMatchObject({ entity: 'event', type: 'deposit.completed', queue: 'events', businessId: TEST_BUSINESS_ID });
    expect(JSON.parse(event!.Put.Item.payload)).toEqual({ action: 'Deposit', type: 'deposit.completed', deposit });
    expect(delivery!.Put.Item).toMatchObject({ PK: event!.Put.Item.PK, SK: 'DELIVERY', entity: 'webhook_delivery', GSI3PK: expect.stringMatching(/^UNDELIVERED#/) });
  });

  it('answers 200 with the recorded deposit, moving nothing, when the deposit item already exists', async () => {
    serve([addressIndex()]);
    ddb.on(TransactWriteCommand).resolvesOnce({});
    const first = parseBody(await simulateDeposit(simulateEvent(), lambdaContext));
    const recorded = transactItems()[0]!.Put.Item;
    serve([addressIndex(), recorded]);
    ddb.on(TransactWriteCommand).rejects(cancelled(['ConditionalCheckFailed', 'None', 'None', 'None']));

    const again = await simulateDeposit(simulateEvent(), lambdaContext);

    expect(again.statusCode).toBe(200);
    expect(parseBody(again)).toEqual(first);
    const read = ddb.commandCalls(GetCommand).find((call) => call.args[0].input.Key?.PK === DEPOSIT_KEY.PK);
    expect(read?.args[0].input.ConsistentRead).toBe(true);
  });

  it('records for an Idempotency-Key the 200 it answered for a repeated deposit, not the 201 that never committed', async () => {
    serve([addressIndex()]);
    ddb.on(TransactWriteCommand).resolvesOnce({});
    await simulateDeposit(simulateEvent(), lambdaContext);
    const recorded = transactItems()[0]!.Put.Item;
    ddb.reset();
    serve([addressIndex(), recorded]);
    ddb.on(PutCommand).resolves({});
    ddb.on(TransactWriteCommand).rejects(cancelled(['ConditionalCheckFailed', 'None', 'None', 'None', 'None']));

    const again = await simulateDeposit(simulateEvent(body, { 'Idempotency-Key': 'deposit-1' }), lambdaContext);

    expect(again.statusCode).toBe(200);
    const completion = ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item!).find((item) => item.state === 'completed');
    expect(completion?.statusCode).toBe(200);
  });

  it('answers 409 deposit_conflict when the recorded deposit has another amount', async () => {
    serve([addressIndex()]);
    ddb.on(TransactWriteCommand).resolvesOnce({});
    await simulateDeposit(simulateEvent(), lambdaContext);
    const recorded = transactItems()[0]!.Put.Item;
    serve([addressIndex(), recorded]);
    ddb.on(TransactWriteCommand).rejects(cancelled(['ConditionalCheckFailed', 'None', 'None', 'None']));

    const result = await simulateDeposit(simulateEvent({ ...body, amount: '100.000001' }), lambdaContext);

    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('deposit_conflict');
  });

  it('answers 409 idempotency_request_in_progress when the idempotency completion lost its lease', async () => {
    serve([addressIndex()]);
    ddb.on(PutCommand).resolves({});
    ddb.on(TransactWriteCommand).rejects(cancelled(['None', 'None', 'None', 'None', 'None', 'ConditionalCheckFailed']));

    const result = await simulateDeposit(simulateEvent(body, { 'Idempotency-Key': 'deposit-2' }), lambdaContext);

    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('idempotency_request_in_progress');
  });

  it('retries a transaction conflict and credits once', async () => {
    serve([addressIndex()]);
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled(['TransactionConflict', 'None', 'None', 'None'])).resolves({});

    const result = await simulateDeposit(simulateEvent(), lambdaContext);

    expect(result.statusCode).toBe(201);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('answers 404 address_not_found for an address of another business\'s user, or no one\'s, writing nothing', async () => {
    serve([addressIndex(OTHER_BUSINESS_ID)]);
    const foreign = await simulateDeposit(simulateEvent(), lambdaContext);
    expect(foreign.statusCode).toBe(404);
    expect(parseBody(foreign).error.code).toBe('address_not_found');

    serve([]);
    const unknown = await simulateDeposit(simulateEvent(), lambdaContext);
    expect(unknown.statusCode).toBe(404);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 400 naming log_index for a token transfer reported without one, before any read or write', async () => {
    // One on-chain transfer reported without log_index and then with log_index 0 used to be two
    // deposits (identities "…#-" and "…#0"), credited twice. The first report is now refused.
    const { log_index: _, ...withoutLogIndex } = body;

    const result = await networkDeposit(networkEvent(withoutLogIndex), lambdaContext);

    expect(result.statusCode).toBe(400);
    expect(parseBody(result).error).toMatchObject({
      code: 'validation_error',
      fields: [{ path: 'log_index', message: expect.stringMatching(/^is required for a USDT transfer on TRON/) }],
    });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('keys a deposit by its lower-case hash, whatever case the hash was reported in', async () => {
    serve([addressIndex()]);
    ddb.on(TransactWriteCommand).resolves({});

    for (const tx_hash of [TX_HASH, TX_HASH.toUpperCase(), `${TX_HASH.slice(0, 32).toUpperCase()}${TX_HASH.slice(32)}`]) {
      await simulateDeposit(simulateEvent({ ...body, tx_hash }), lambdaContext);
    }

    const keys = ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems![0]!.Put!.Item);
    expect(keys.map((item) => ({ PK: item!.PK, SK: item!.SK, txHash: item!.txHash }))).toEqual(Array(3).fill({ ...DEPOSIT_KEY, txHash: TX_HASH }));
  });

  it('answers 400 for an amount beyond the asset\'s precision, before any read', async () => {
    const result = await simulateDeposit(simulateEvent({ ...body, amount: '1.0000001' }), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(parseBody(result).error.fields).toEqual([{ path: 'amount', message: 'must have at most 6 decimal places for USDT' }]);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });
});

describe('POST /network/deposits', () => {
  it('credits an address of any business, recording the watcher as the source', async () => {
    serve([addressIndex(OTHER_BUSINESS_ID)]);
    ddb.on(TransactWriteCommand).resolves({});

    const result = await networkDeposit(networkEvent(), lambdaContext);

    expect(result.statusCode).toBe(201);
    expect(parseBody(result).p_business_id).toBe(OTHER_BUSINESS_ID);
    expect(transactItems()[0]!.Put.Item.source).toBe('chain:chain-watcher');
  });

  it("refuses a business or card network identity with 403 chain_credential_required (only the chain watcher credits deposits)", async () => {
    const identities: Record<string, string>[] = [{ credential: 'business', businessId: TEST_BUSINESS_ID, keyId: 'k' }, { credential: 'network', principal: 'net-1' }];
    for (const authorizer of identities) {
      const result = await networkDeposit(networkEvent(body, authorizer), lambdaContext);
      expect(result.statusCode).toBe(403);
      expect(parseBody(result).error.code).toBe('chain_credential_required');
    }
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});

describe('the deposit fee the operator sets', () => {
  const FEE = '/card-platform/unit/deposits/fee-bps';

  beforeEach(() => {
    process.env.DEPOSIT_FEE_BPS_PARAMETER = FEE;
    resetConfigForTests();
    resetOperatorSettingsForTests();
    ssm.reset();
  });
  afterEach(() => {
    delete process.env.DEPOSIT_FEE_BPS_PARAMETER;
    resetConfigForTests();
    resetOperatorSettingsForTests();
  });

  it('is read from SSM and taken off a stablecoin deposit, rounded up to the cent', async () => {
    ssm.on(GetParameterCommand, { Name: FEE }).resolves({ Parameter: { Name: FEE, Type: 'String', Value: '125' } });
    serve([addressIndex()]);
    ddb.on(TransactWriteCommand).resolves({});

    const result = await networkDeposit(networkEvent({ ...body, amount: '10.01' }), lambdaContext);

    expect(result.statusCode).toBe(201);
    // 1.25% of 10.01 USD is 0.125125: 0.13 is charged, 9.88 credited.
    expect(parseBody(result)).toMatchObject({ credited_currency: 'USD', credited_amount: '9.88', fee: '0.13' });
  });

  it('is never read for BTC or ETH, which credit in full', async () => {
    const btc = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';
    serve([{ PK: `ADDRESS#btc#${btc}`, SK: 'ADDRESS', entity: 'wallet_address_index', userId: USER_ID, businessId: TEST_BUSINESS_ID }]);
    ddb.on(TransactWriteCommand).resolves({});

    const result = await networkDeposit(networkEvent({ chain: 'BTC', address: btc, asset: 'BTC', amount: '0.1', tx_hash: TX_HASH, vout: 0 }), lambdaContext);

    expect(parseBody(result)).toMatchObject({ credited_amount: '0.1', fee: '0' });
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
  });

  it('credits nothing when the parameter does not exist: a 500, never the sandbox\'s 0', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    serve([addressIndex()]);

    const result = await networkDeposit(networkEvent(), lambdaContext);

    expect(result.statusCode).toBe(500);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});

/**
 * The address routes through their real wrappers, over aws-sdk-client-mock: allocation from the
 * family counter, the one transaction that records an address, and what a cancellation means.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, NumberValue, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as createWalletAddress } from '../../../functions/wallets/create-wallet-address.ts';
import { handler as listWalletAddresses } from '../../../functions/wallets/list-wallet-addresses.ts';
import { deriveAddress, parseAccountKey } from '../../../shared/domain/chain-addresses.ts';
import { SANDBOX_TEST_XPUBS } from '../../../shared/services/wallet-keys.ts';
import { apiEvent, lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';
import { ADDRESS_COUNTER_SHARDS, SHARDED_ADDRESS_INDEX_BASE } from '../../../shared/db/wallets-repository.ts';

const ddb = mockClient(DynamoDBDocumentClient);

const USER_ID = '0190a3c4-0000-7000-8000-00000000beef';
const OTHER_BUSINESS_ID = '0190a3c4-0000-7000-8000-0000000000f2';
const CREATED_AT = '2025-03-04T03:32:11.051702Z';

function userItem(status = 'Active', businessId = TEST_BUSINESS_ID) {
  return {
    PK: `USER#${USER_ID}`,
    SK: 'PROFILE',
    entity: 'user',
    userId: USER_ID,
    businessId,
    status,
    ekyc: 'sealed',
    ekycFingerprints: { firstName: 'f', lastName: 'l', idNumber: 'i' },
    createdAt: CREATED_AT,
    updatedAt: CREATED_AT,
  };
}

const evm4 = deriveAddress(parseAccountKey('evm', SANDBOX_TEST_XPUBS.evm), 4);

const familyItem = () => ({
  PK: `USER#${USER_ID}`,
  SK: 'WALLET#KEY#evm',
  entity: 'wallet_family_address',
  userId: USER_ID,
  businessId: TEST_BUSINESS_ID,
  family: 'evm',
  index: new NumberValue('4'),
  address: evm4.address,
  derivationPath: evm4.derivationPath,
  createdAt: CREATED_AT,
});
const chainItem = (chain: string) => ({
  PK: `USER#${USER_ID}`,
  SK: `WALLET#CHAIN#${chain}`,
  entity: 'wallet_address',
  userId: USER_ID,
  businessId: TEST_BUSINESS_ID,
  chain,
  address: evm4.address,
  derivationPath: evm4.derivationPath,
  createdAt: CREATED_AT,
});

const createEvent = (chain: string, headers: Record<string, string> = {}, authorizer?: Record<string, string>) =>
  apiEvent({
    method: 'POST',
    path: `/v1/users/${USER_ID}/wallet-addresses`,
    resource: '/v1/users/{p_user_id}/wallet-addresses',
    pathParameters: { p_user_id: USER_ID },
    body: { chain },
    headers,
    ...(authorizer ? { authorizer } : {}),
  });

function cancelled(codes: string[]) {
  return new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });
}

function transactItems(call = 0): Record<string, any>[] {
  return ddb.commandCalls(TransactWriteCommand)[call]!.args[0].input.TransactItems as Record<string, any>[];
}

beforeEach(() => {
  ddb.reset();
  ddb.on(GetCommand).resolves({ Item: userItem() });
});

describe('POST /v1/users/{p_user_id}/wallet-addresses', () => {
  it('takes the next child index from the family counter and records chain, family and address index in one transaction', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(UpdateCommand).resolves({ Attributes: { allocated: new NumberValue('10') } });
    ddb.on(TransactWriteCommand).resolves({});

    const result = await createWalletAddress(createEvent('TRON'), lambdaContext);

    expect(result.statusCode).toBe(201);
    // One of the family's counters, at random; its 10th address owns the index of its residue.
    const counter = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(counter).toMatchObject({ Key: { SK: 'COUNTER' }, UpdateExpression: 'SET entity = :entity ADD allocated :one', ReturnValues: 'UPDATED_NEW' });
    const shard = Number(/^WALLET_COUNTER#tron#(\d+)$/.exec(String(counter.Key!.PK))![1]);
    expect(shard).toBeLessThan(ADDRESS_COUNTER_SHARDS);
    const index = SHARDED_ADDRESS_INDEX_BASE + 9 * ADDRESS_COUNTER_SHARDS + shard;
    const expected = deriveAddress(parseAccountKey('tron', SANDBOX_TEST_XPUBS.tron), index);
    expect(parseBody(result)).toMatchObject({ chain: 'TRON', address: expected.address, derivation_path: `m/44'/195'/0'/0/${index}`, assets: ['USDT', 'USDC'], p_user_id: USER_ID });
    const [userCheck, chainPut, familyPut, indexPut] = transactItems();
    expect(userCheck!.ConditionCheck).toMatchObject({ Key: { PK: `USER#${USER_ID}`, SK: 'PROFILE' }, ConditionExpression: '#status = :active AND businessId = :businessId' });
    expect(chainPut!.Put).toMatchObject({ Item: { SK: 'WALLET#CHAIN#TRON', address: expected.address }, ConditionExpression: 'attribute_not_exists(PK)' });
    expect(familyPut!.Put).toMatchObject({ Item: { SK: 'WALLET#KEY#tron', index }, ConditionExpression: 'attribute_not_exists(PK)' });
    expect(indexPut!.Put).toMatchObject({
      Item: { PK: `ADDRESS#tron#${expected.address}`, userId: USER_ID, businessId: TEST_BUSINESS_ID },
      ConditionExpression: 'attribute_not_exists(PK)',
    });
  });

  it('never hands out one child index twice: each counter owns its residue, above every index of the single counter before it', () => {
    const seen = new Set<number>();
    for (let shard = 0; shard < ADDRESS_COUNTER_SHARDS; shard++) {
      for (let allocated = 1; allocated <= 50; allocated++) seen.add(SHARDED_ADDRESS_INDEX_BASE + (allocated - 1) * ADDRESS_COUNTER_SHARDS + shard);
    }
    expect(seen.size).toBe(ADDRESS_COUNTER_SHARDS * 50);
    expect(Math.min(...seen)).toBe(2 ** 30);
  });

  it('gives BSC the user\'s existing EVM address without allocating another', async () => {
    ddb.on(QueryCommand).resolves({ Items: [familyItem(), chainItem('ETH')] });
    ddb.on(TransactWriteCommand).resolves({});

    const result = await createWalletAddress(createEvent('BSC'), lambdaContext);

    expect(result.statusCode).toBe(201);
    expect(parseBody(result)).toMatchObject({ chain: 'BSC', address: evm4.address, derivation_path: "m/44'/60'/0'/0/4", assets: ['USDT', 'USDC'] });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(transactItems()).toHaveLength(2);
  });

  it('answers 200 with the address the user already has on that chain, writing nothing', async () => {
    ddb.on(QueryCommand).resolves({ Items: [familyItem(), chainItem('ETH')] });

    const result = await createWalletAddress(createEvent('ETH'), lambdaContext);

    expect(result.statusCode).toBe(200);
    expect(parseBody(result).address).toBe(evm4.address);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 200 with the winner\'s address when a concurrent request recorded it first, and records that 200 for the Idempotency-Key', async () => {
    ddb.on(QueryCommand).resolvesOnce({ Items: [familyItem()] }).resolves({ Items: [familyItem(), chainItem('POLYGON')] });
    ddb.on(PutCommand).resolves({});
    ddb.on(TransactWriteCommand).rejects(cancelled(['None', 'ConditionalCheckFailed', 'None']));

    const result = await createWalletAddress(createEvent('POLYGON', { 'Idempotency-Key': 'addr-1' }), lambdaContext);

    expect(result.statusCode).toBe(200);
    expect(parseBody(result).address).toBe(evm4.address);
    const completion = ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item!).find((item) => item.state === 'completed');
    expect(completion?.statusCode).toBe(200);
  });

  it('answers 409 user_not_active when the user was suspended before the address committed', async () => {
    ddb.on(QueryCommand).resolves({ Items: [familyItem()] });
    ddb.on(TransactWriteCommand).rejects(cancelled(['ConditionalCheckFailed', 'None']));

    const result = await createWalletAddress(createEvent('ETH'), lambdaContext);

    expect(result.statusCode).toBe(409);
    expect(parseBody(result).error.code).toBe('user_not_active');
  });

  it('allocates nothing for a suspended user', async () => {
    ddb.on(GetCommand).resolves({ Item: userItem('Suspended') });
    ddb.on(QueryCommand).resolves({ Items: [] });

    const result = await createWalletAddress(createEvent('BTC'), lambdaContext);

    expect(result.statusCode).toBe(409);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('answers 404 for another business\'s user and 400 for an unknown chain', async () => {
    ddb.on(GetCommand).resolves({ Item: userItem('Active', OTHER_BUSINESS_ID) });
    const foreign = await createWalletAddress(createEvent('BTC'), lambdaContext);
    expect(foreign.statusCode).toBe(404);
    expect(parseBody(foreign).error.code).toBe('user_not_found');

    const unknown = await createWalletAddress(createEvent('DOGE'), lambdaContext);
    expect(unknown.statusCode).toBe(400);
    expect(parseBody(unknown).error.fields[0].path).toBe('chain');
  });
});

describe('GET /v1/users/{p_user_id}/wallet-addresses', () => {
  it('lists the chain addresses (not the family records), newest first', async () => {
    ddb.on(QueryCommand).resolves({ Items: [familyItem(), chainItem('ETH'), { ...chainItem('BSC'), createdAt: '2025-03-05T00:00:00.000000Z' }] });
    const result = await listWalletAddresses(
      apiEvent({ path: `/v1/users/${USER_ID}/wallet-addresses`, resource: '/v1/users/{p_user_id}/wallet-addresses', pathParameters: { p_user_id: USER_ID } }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toEqual({
      data: [
        { chain: 'BSC', address: evm4.address, derivation_path: evm4.derivationPath, assets: ['USDT', 'USDC'], p_user_id: USER_ID, p_created_at: '2025-03-05T00:00:00.000000Z' },
        { chain: 'ETH', address: evm4.address, derivation_path: evm4.derivationPath, assets: ['ETH', 'USDT', 'USDC'], p_user_id: USER_ID, p_created_at: CREATED_AT },
      ],
      next_cursor: null,
    });
  });
});

/**
 * The escrow steps of a B2B approval (shared/services/escrow.ts) with DynamoDB faults injected: a
 * shard that comes up short, then the second, then a refill from one atomic snapshot in the
 * approval's own transaction; a decline only when the snapshot's sum is short; a refill whose
 * source moved meanwhile planned again; contention growing the shard count.
 */
import { BatchGetCommand, DynamoDBDocumentClient, NumberValue, TransactGetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as simulateAuthorize } from '../../../functions/simulate/create-authorization.ts';
import { resetConfigForTests } from '../../../shared/config.ts';
import { lambdaContext, parseBody, TEST_BUSINESS_ID } from '../../support/events.ts';
import { businessItem, cancelled, cardItem, serveItems, simulateAuthorizationEvent } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const POOL = { PK: `BUSINESS#${TEST_BUSINESS_ID}`, SK: 'BALANCE#USD' };
const shardPk = (shard: number) => `ESCROW#${TEST_BUSINESS_ID}#USD#${shard}`;

type Item = Record<string, any>;
const keyOf = (item: Item) => (item.Update ?? item.Put ?? item.ConditionCheck).Key ?? { PK: item.Put.Item.PK, SK: item.Put.Item.SK };
const balanceItems = (items: Item[]) => items.filter((item) => item.Update && /^(ESCROW#|BUSINESS#.*)/.test(keyOf(item).PK) && String(keyOf(item).SK).startsWith('BALANCE'));
const transactions = () => ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems as Item[]);

/** Cancels a transaction: its escrow items fail with `code`, the rest pass. */
const onEscrow = (items: Item[], code = 'ConditionalCheckFailed') => cancelled(items.map((item) => (String(keyOf(item).PK).startsWith('ESCROW#') ? code : 'None')));

function balanceItems4(pool: bigint, shards: bigint[]) {
  return [
    { ...POOL, available: new NumberValue(String(pool)), pending: new NumberValue('0') },
    ...shards.map((available, shard) => ({ PK: shardPk(shard), SK: 'BALANCE', available: new NumberValue(String(available)), pending: new NumberValue('0') })),
  ];
}

/**
 * What the refill reads of the pool and its four shards: consistently item by item (BatchGetItem,
 * to plan) and at once (TransactGetItems, before a decline); `atOnce` when the two differ.
 */
function snapshot(pool: bigint, shards: bigint[], atOnce?: { pool: bigint; shards: bigint[] }) {
  ddb.on(BatchGetCommand).callsFake((input) => ({ Responses: { [Object.keys(input.RequestItems)[0]!]: balanceItems4(pool, shards) } }));
  const exact = atOnce ? balanceItems4(atOnce.pool, atOnce.shards) : balanceItems4(pool, shards);
  ddb.on(TransactGetCommand).resolves({ Responses: exact.map((Item) => ({ Item })) });
}

beforeEach(() => {
  ddb.reset();
  serveItems(ddb, [cardItem(), businessItem()]);
});

describe('a B2B approval on escrow shards', () => {
  it('holds on one shard, chosen from the authorization, in the one transaction', async () => {
    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);
    expect(parseBody(result)).toMatchObject({ status: 'Authorized' });
    const [held] = balanceItems(transactions()[0]!);
    expect(keyOf(held!).PK).toMatch(/^ESCROW#.*#USD#[0-3]$/);
    expect(held!.Update.ConditionExpression).toBe('available >= :minAvailable');
    expect(held!.Update.ExpressionAttributeValues).toMatchObject({ ':available': -1000n, ':pending': 1000n, ':minAvailable': 1000n });
  });

  it('held on the second shard, fills the first from the pool (up to the average per shard), so the next authorizations find it funded', async () => {
    snapshot(100_000n, [0n, 0n, 0n, 0n]);
    ddb.on(TransactWriteCommand).callsFake((input) => {
      const items = input.TransactItems as Item[];
      if (transactions().length === 1) throw onEscrow(items);
      return {};
    });
    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);
    expect(parseBody(result)).toMatchObject({ status: 'Authorized' });
    const [first, second, fill] = transactions();
    const firstShard = keyOf(balanceItems(first!)[0]!).PK;
    expect(keyOf(balanceItems(second!)[0]!).PK).not.toBe(firstShard);
    expect(fill!.map((item) => [keyOf(item).PK, item.Update.ExpressionAttributeValues[':available']])).toEqual([
      [POOL.PK, -25_000n],
      [firstShard, 25_000n],
    ]);
    expect(fill![0]!.Update.ConditionExpression).toContain('available >= :minAvailable');
  });

  it('holds on the pool while the stage has escrow holds off (the upgrade deploy), refilling the pool from the shards if short', async () => {
    process.env.ESCROW_HOLDS = 'off';
    resetConfigForTests();
    try {
      snapshot(0n, [0n, 5_000n, 0n, 0n]);
      let refill: Item[] | undefined;
      ddb.on(TransactWriteCommand).callsFake((input) => {
        const items = input.TransactItems as Item[];
        const pool = balanceItems(items).find((item) => keyOf(item).PK === POOL.PK)!;
        if (pool.Update.ExpressionAttributeValues[':minAvailable'] === 1_000n) throw cancelled(items.map((item) => (item === pool ? 'ConditionalCheckFailed' : 'None')));
        refill = items;
        return {};
      });
      const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);
      expect(parseBody(result)).toMatchObject({ status: 'Authorized' });
      const [first] = transactions();
      expect(balanceItems(first!).map((item) => keyOf(item))).toEqual([POOL]);
      // Shard 1 gives the pool exactly what it misses; the transaction records no shard.
      expect(balanceItems(refill!).map((item) => [keyOf(item).PK, item.Update.ExpressionAttributeValues[':available']])).toEqual([
        [shardPk(1), -1_000n],
        [POOL.PK, 0n],
      ]);
      expect(refill!.find((item) => item.Put?.Item.entity === 'card_transaction')!.Put.Item.escrowShard).toBeUndefined();
    } finally {
      delete process.env.ESCROW_HOLDS;
      resetConfigForTests();
    }
  });

  it('with escrow holds off, declines a short pool with no shard holding anything without an atomic read', async () => {
    process.env.ESCROW_HOLDS = 'off';
    resetConfigForTests();
    try {
      snapshot(500n, [0n, 0n, 0n, 0n]);
      ddb.on(TransactWriteCommand).callsFake((input) => {
        const items = input.TransactItems as Item[];
        if (balanceItems(items).some((item) => keyOf(item).PK === POOL.PK)) throw cancelled(items.map((item) => (keyOf(item).PK === POOL.PK ? 'ConditionalCheckFailed' : 'None')));
        return {};
      });
      const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);
      expect(parseBody(result)).toMatchObject({ status: 'Declined', decline_reason: 'insufficient_balance' });
      expect(ddb.commandCalls(TransactGetCommand)).toHaveLength(0);
    } finally {
      delete process.env.ESCROW_HOLDS;
      resetConfigForTests();
    }
  });

  it('tries a second shard, then refills the first from the pool in the approval itself', async () => {
    snapshot(100_000n, [0n, 0n, 0n, 0n]);
    let third: Item[] | undefined;
    ddb.on(TransactWriteCommand).callsFake((input) => {
      const items = input.TransactItems as Item[];
      if (transactions().length <= 2) throw onEscrow(items);
      third = items;
      return {};
    });
    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);
    expect(parseBody(result)).toMatchObject({ status: 'Authorized' });
    const [first, second] = transactions().map((items) => keyOf(balanceItems(items)[0]!).PK);
    expect(first).not.toBe(second);
    const moves = balanceItems(third!);
    // The pool gives an even share (1,000.00 / 4 shards); the first shard takes it and holds 10.
    const pool = moves.find((item) => keyOf(item).PK === POOL.PK)!;
    expect(pool.Update.ExpressionAttributeValues).toMatchObject({ ':available': -25_000n, ':minAvailable': 25_000n, ':shardCount': 4 });
    expect(pool.Update.ConditionExpression).toContain('escrowShards >= :shardCount');
    const shard = moves.find((item) => keyOf(item).PK === first)!;
    expect(shard.Update.ExpressionAttributeValues).toMatchObject({ ':available': 24_000n, ':pending': 1_000n, ':minAvailable': -24_000n });
    expect(shard.Update.ConditionExpression).toBe('(attribute_not_exists(available) OR available >= :minAvailable)');
  });

  it('declines insufficient_balance only when the snapshot of the pool and every shard is short', async () => {
    ddb.on(TransactWriteCommand).callsFake((input) => {
      const items = input.TransactItems as Item[];
      // The approvals fail on their shard; the decline's own record commits.
      if (items.some((item) => String(keyOf(item).PK).startsWith('ESCROW#'))) throw onEscrow(items);
      return {};
    });
    // 9.99 in all, spread over the pool and three shards: 10 is short by one cent.
    snapshot(99n, [300n, 0n, 300n, 300n]);
    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);
    expect(parseBody(result)).toMatchObject({ status: 'Declined', decline_reason: 'insufficient_balance' });
    // Planned from the item-by-item read; declined only after the atomic one agreed.
    expect(ddb.commandCalls(BatchGetCommand)[0]!.args[0].input.RequestItems![Object.keys(ddb.commandCalls(BatchGetCommand)[0]!.args[0].input.RequestItems!)[0]!]!.ConsistentRead).toBe(true);
    expect(ddb.commandCalls(TransactGetCommand)).toHaveLength(1);
  });

  it('never declines on a read that missed money in flight between two items: the atomic read decides', async () => {
    let refilled: Item[] | undefined;
    ddb.on(TransactWriteCommand).callsFake((input) => {
      const items = input.TransactItems as Item[];
      if (!items.some((item) => keyOf(item).PK === POOL.PK)) throw onEscrow(items);
      refilled = items;
      return {};
    });
    // Item by item, 5.00 was seen nowhere (it moved from shard 3 to the pool between the two reads).
    snapshot(0n, [0n, 0n, 0n, 500n], { pool: 1_000n, shards: [0n, 0n, 0n, 0n] });
    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);
    expect(parseBody(result)).toMatchObject({ status: 'Authorized' });
    expect(balanceItems(refilled!).find((item) => keyOf(item).PK === POOL.PK)!.Update.ExpressionAttributeValues).toMatchObject({ ':minAvailable': 1_000n });
  });

  it('plans again from a new snapshot when a source moved between the snapshot and the refill', async () => {
    let refills = 0;
    ddb.on(TransactWriteCommand).callsFake((input) => {
      const items = input.TransactItems as Item[];
      const refill = items.some((item) => keyOf(item).PK === POOL.PK);
      if (refill && ++refills === 1) throw cancelled(items.map((item) => (keyOf(item).PK === POOL.PK ? 'ConditionalCheckFailed' : 'None')));
      if (!refill) throw onEscrow(items);
      return {};
    });
    snapshot(5_000n, [0n, 0n, 0n, 0n]);
    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext);
    expect(parseBody(result)).toMatchObject({ status: 'Authorized' });
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(2);
    expect(refills).toBe(2);
  });

  const contendedFirst = (codes: string[]) => {
    let calls = 0;
    ddb.on(TransactWriteCommand).callsFake((input) => {
      const code = codes[calls++];
      if (code) throw onEscrow(input.TransactItems as Item[], code);
      return {};
    });
    ddb.on(UpdateCommand).resolves({});
  };
  const growth = () => ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);

  it('does not grow the shards for one transaction conflict: that is ordinary concurrency', async () => {
    contendedFirst(['TransactionConflict']);
    expect(parseBody(await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext))).toMatchObject({ status: 'Authorized' });
    expect(growth()).toHaveLength(0);
  });

  it('doubles the shard count when its shard was throttled, or conflicted twice', async () => {
    contendedFirst(['ThrottlingError']);
    expect(parseBody(await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext))).toMatchObject({ status: 'Authorized' });
    expect(growth()).toEqual([expect.objectContaining({ Key: POOL, UpdateExpression: 'SET escrowShards = :to', ExpressionAttributeValues: { ':from': 4, ':to': 8 } })]);
    ddb.reset();
    serveItems(ddb, [cardItem(), businessItem()]);
    contendedFirst(['TransactionConflict', 'TransactionConflict']);
    expect(parseBody(await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext))).toMatchObject({ status: 'Authorized' });
    // This container knows 8 now: it doubles from there.
    expect(growth()).toEqual([expect.objectContaining({ ExpressionAttributeValues: { ':from': 8, ':to': 16 } })]);
  });

  it('answers the approval even when growing the count fails', async () => {
    contendedFirst(['ThrottlingError']);
    ddb.on(UpdateCommand).rejects(new Error('throttled'));
    expect(parseBody(await simulateAuthorize(simulateAuthorizationEvent({ amount: '10' }), lambdaContext))).toMatchObject({ status: 'Authorized' });
  });
});

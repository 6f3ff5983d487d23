/**
 * Reads and the one direct write of a business balance's escrow (shared/domain/escrow.ts): the
 * shard count the pool records, an atomic snapshot of the pool and its shards, and the count's
 * growth. The money moves themselves are items of the approval's transaction (ledger-items.ts).
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { INITIAL_ESCROW_SHARDS, MAX_ESCROW_SHARDS, type EscrowSnapshot, type RefillPlan } from '../domain/escrow.ts';
import { ApiError } from '../errors.ts';
import { getItemsConsistently } from './batch-get.ts';
import { bigintAttr, db, intAttr, tableName } from './client.ts';
import { businessKeys, type ItemKey } from './keys.ts';
import { transaction } from './transact.ts';
import { balanceHoldEntries } from './transactions-repository.ts';

/** The pool's item: its available amount and the shard count it records (absent: the initial count). */
interface PoolRead {
  pool: bigint;
  pending: bigint;
  shardCount: number;
}

function poolOf(item: Record<string, unknown> | undefined): PoolRead {
  return { pool: bigintAttr(item?.available), pending: bigintAttr(item?.pending), shardCount: shardCountOf(item) };
}

/** The shard count a pool item records (absent: the initial count). */
export function shardCountOf(pool: Record<string, unknown> | undefined): number {
  return pool?.escrowShards === undefined ? INITIAL_ESCROW_SHARDS : Math.min(MAX_ESCROW_SHARDS, intAttr(pool.escrowShards));
}

/** How many shards a business balance has (an eventually consistent read: a count only grows). */
export async function readShardCount(businessId: string, currency: string): Promise<number> {
  // (Every other read takes the count from a cache or an item already read: `readEscrow`'s `knownShardCount`.)
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: businessKeys.balance(businessId, currency), ProjectionExpression: 'escrowShards' }));
  return poolOf(result.Item).shardCount;
}

/** A business balance summed over its pool and shards, read at once (available and pending). */
export interface EscrowRead extends EscrowSnapshot {
  pending: bigint;
}

const SNAPSHOT_ATTEMPTS = 6;

/**
 * How to read a balance's items:
 * - `atomic`: one TransactGetItems, serialized with every transaction (what a decline and
 *   `GET /v1/balances` rely on). DynamoDB cancels it when any of its items has a write in flight,
 *   so on a busy balance it is retried, then a retryable 503.
 * - `consistent`: strongly consistent reads (BatchGetItem) of each item, not at one instant: money
 *   moving between two items while they are read may be counted twice or not at all. Enough to
 *   plan a refill (every source is a condition of the refill's transaction) and for the balance a
 *   partner's decision endpoint is shown; never to decline.
 */
export type EscrowReadKind = 'atomic' | 'consistent';

/**
 * The pool and every shard it records. The count is `knownShardCount` (a caller's cached or just
 * read count: counts only grow, so an old one is never too high) or read first; if the pool read
 * with the shards records more (it grew), read again with them.
 */
export async function readEscrow(businessId: string, currency: string, kind: EscrowReadKind = 'atomic', knownShardCount?: number): Promise<EscrowRead> {
  let shardCount = knownShardCount ?? (await readShardCount(businessId, currency));
  for (let attempt = 1; attempt <= SNAPSHOT_ATTEMPTS; attempt++) {
    const keys = [businessKeys.balance(businessId, currency), ...Array.from({ length: shardCount }, (_, shard) => businessKeys.escrowShard(businessId, currency, shard))];
    let items: (Record<string, unknown> | undefined)[];
    try {
      items = kind === 'atomic' ? await readAtomically(keys) : await getItemsConsistently(keys);
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      await sleep(Math.random() * 10 * 2 ** attempt);
      continue;
    }
    const pool = poolOf(items[0]);
    if (pool.shardCount > shardCount) {
      shardCount = pool.shardCount;
      continue;
    }
    const shards = items.slice(1);
    return {
      shardCount,
      pool: pool.pool,
      shards: shards.map((item) => bigintAttr(item?.available)),
      pending: shards.reduce((sum, item) => sum + bigintAttr(item?.pending), pool.pending),
    };
  }
  throw new ApiError('service_unavailable');
}

async function readAtomically(keys: ItemKey[]): Promise<(Record<string, unknown> | undefined)[]> {
  const result = await db().send(new TransactGetCommand({ TransactItems: keys.map((Key) => ({ Get: { TableName: tableName(), Key } })) }));
  return (result.Responses ?? []).map((response) => response?.Item);
}

/**
 * Moves money into a shard without a hold (`plan` from `planRefill(snapshot, shard, 0n)`): one
 * transaction, every source conditional on what it still holds; no ledger account changes (the pool
 * and its shards are one balance). `false` when a source moved meanwhile.
 */
export async function commitRefill(businessId: string, currency: string, plan: RefillPlan, shardCount: number): Promise<boolean> {
  const entries = balanceHoldEntries({ kind: 'business', id: businessId }, currency, 0n, { kind: 'refill', plan, shardCount });
  return (await transaction<string>().addAll(entries).commit()).committed;
}

/**
 * Records `to` shards on the pool if it still records `from`: of containers that saw the same
 * contention at once, one grows the count and the others find it grown. Returns the count now.
 */
export async function growShardCount(businessId: string, currency: string, from: number, to: number): Promise<number> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: businessKeys.balance(businessId, currency),
        UpdateExpression: 'SET escrowShards = :to',
        ConditionExpression:
          from === INITIAL_ESCROW_SHARDS ? 'attribute_exists(PK) AND (attribute_not_exists(escrowShards) OR escrowShards = :from)' : 'escrowShards = :from',
        ExpressionAttributeValues: { ':from': from, ':to': to },
      }),
    );
    return to;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return readShardCount(businessId, currency);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

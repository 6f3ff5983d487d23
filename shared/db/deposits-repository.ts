/**
 * Deposits in the single table. A deposit item is keyed by its on-chain identity (chain, tx hash,
 * log index or vout), and its conditional Put is part of the credit's own transaction: a deposit
 * reported any number of times, even concurrently, credits once (the other attempts find the
 * item and answer with it). Amounts are stored as minor-unit strings and read back exactly.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { CHAINS, DEPOSIT_ASSETS, type Chain, type DepositAsset } from '../domain/chains.ts';
import type { BalanceOwner, Posting } from '../domain/ledger.ts';
import { isCurrency } from '../domain/money.ts';
import { depositIdentity, type Deposit } from '../domain/wallets.ts';
import type { PageKey } from '../http/cursor.ts';
import { db, intAttr, tableName } from './client.ts';
import { idempotencyInProgress } from './idempotency-repository.ts';
import { depositKeys } from './keys.ts';
import { GSI1_KEY, queryNewestFirst } from './query-page.ts';
import { creditItem, postingItem } from './ledger-items.ts';
import { outboxEntries, type OutboxEvent } from './outbox.ts';
import { transaction, type TransactItem } from './transact.ts';

export interface DepositPlan {
  deposit: Deposit;
  posting: Posting;
  event: OutboxEvent;
  idempotencyCompletion?: TransactItem;
}

/**
 * Records the deposit, credits its user (net of the fee), writes its posting and its Deposit
 * event, in one transaction. `'duplicate'`: this on-chain deposit was already recorded, and
 * nothing moved.
 */
export async function commitDeposit(plan: DepositPlan): Promise<'committed' | 'duplicate'> {
  const { deposit } = plan;
  const owner: BalanceOwner = { kind: 'user', id: deposit.userId };
  const tx = transaction<'duplicate' | 'idempotency'>()
    .add({ Put: { TableName: tableName(), Item: depositItem(deposit), ConditionExpression: 'attribute_not_exists(PK)' } }, 'duplicate')
    .add(creditItem(owner, deposit.credit.currency, deposit.credit.net))
    .add(postingItem(plan.posting))
    .addAll(outboxEntries(plan.event));
  if (plan.idempotencyCompletion) tx.add(plan.idempotencyCompletion, 'idempotency');
  const result = await tx.commit();
  if (result.committed) return 'committed';
  if (result.failed.has('duplicate')) return 'duplicate';
  throw idempotencyInProgress();
}

/** The deposit recorded under an on-chain identity (read consistently: it decides a replay). */
export async function findDeposit(chain: Chain, txHash: string, position: number | null): Promise<Deposit | undefined> {
  const result = await db().send(
    new GetCommand({ TableName: tableName(), Key: depositKeys.deposit(depositIdentity(chain, txHash, position)), ConsistentRead: true }),
  );
  return result.Item ? fromItem(result.Item) : undefined;
}

/** One page of a user's deposits, newest first (GSI1; deposit ids are UUID v7). */
export async function listUserDeposits(userId: string, limit: number, startKey?: PageKey): Promise<{ deposits: Deposit[]; lastKey?: PageKey }> {
  const page = await queryNewestFirst(
    { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :partition', ExpressionAttributeValues: { ':partition': depositKeys.userListPartition(userId) } },
    GSI1_KEY,
    fromItem,
    limit,
    startKey,
  );
  return { deposits: page.items, ...(page.lastKey ? { lastKey: page.lastKey } : {}) };
}

function depositItem(deposit: Deposit): Record<string, unknown> {
  const { credit } = deposit;
  return {
    ...depositKeys.deposit(depositIdentity(deposit.chain, deposit.txHash, deposit.position)),
    ...depositKeys.userListIndex(deposit.userId, deposit.depositId),
    entity: 'deposit',
    depositId: deposit.depositId,
    businessId: deposit.businessId,
    userId: deposit.userId,
    chain: deposit.chain,
    address: deposit.address,
    txHash: deposit.txHash,
    position: deposit.position ?? undefined,
    asset: credit.asset,
    onChainAmount: credit.onChainAmount.toString(),
    currency: credit.currency,
    gross: credit.gross.toString(),
    fee: credit.fee.toString(),
    net: credit.net.toString(),
    source: deposit.source,
    createdAt: deposit.createdAt,
  };
}

function fromItem(item: Record<string, unknown>): Deposit {
  const chain = String(item.chain);
  const asset = String(item.asset);
  const currency = String(item.currency);
  if (!(CHAINS as readonly string[]).includes(chain)) throw new Error(`Deposit ${String(item.depositId)} has an unknown chain`);
  if (!(DEPOSIT_ASSETS as readonly string[]).includes(asset)) throw new Error(`Deposit ${String(item.depositId)} has an unknown asset`);
  if (!isCurrency(currency)) throw new Error(`Deposit ${String(item.depositId)} has an unknown currency`);
  return {
    depositId: String(item.depositId),
    businessId: String(item.businessId),
    userId: String(item.userId),
    chain: chain as Chain,
    address: String(item.address),
    txHash: String(item.txHash),
    position: item.position === undefined || item.position === null ? null : intAttr(item.position),
    credit: {
      asset: asset as DepositAsset,
      onChainAmount: BigInt(String(item.onChainAmount)),
      currency,
      gross: BigInt(String(item.gross)),
      fee: BigInt(String(item.fee)),
      net: BigInt(String(item.net)),
    },
    source: String(item.source),
    createdAt: String(item.createdAt),
  };
}

/**
 * Platform transfers in the single table. A transfer is ONE `TransactWriteItems`, its items in the
 * order of the rejections they can raise:
 *
 *   [sender Active, of the business] [receiver Active, of the business] [debit sender]
 *   [credit receiver] [transfer] [sender's entry] [receiver's entry] [posting] [event]
 *   [idempotency completion]
 *
 * The debit is conditional on `available >= amount`, evaluated by DynamoDB inside the
 * transaction, so concurrent transfers can never overdraw a sender whatever was read before.
 * The two party entries (`USER#<id>` / `TRANSFER#<id>`) make "a user's transfers" one Query.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Posting } from '../domain/ledger.ts';
import { isCurrency } from '../domain/money.ts';
import type { Transfer } from '../domain/transfers.ts';
import { ApiError } from '../errors.ts';
import type { PageKey } from '../http/cursor.ts';
import { db, tableName } from './client.ts';
import { idempotencyInProgress } from './idempotency-repository.ts';
import { transferKeys } from './keys.ts';
import { creditItem, debitItem, postingItem } from './ledger-items.ts';
import { outboxEntries, type OutboxEvent } from './outbox.ts';
import { gsi1Shard, queryNewestFirst, queryShardsNewestFirst, TABLE_KEY, type Page } from './query-page.ts';
import { transaction, type TransactItem } from './transact.ts';
import { activeUserCheck } from './users-repository.ts';

export interface TransferPlan {
  transfer: Transfer;
  posting: Posting;
  event: OutboxEvent;
  idempotencyCompletion?: TransactItem;
}

/** Commits a transfer, or throws the rejection (nothing moved): `user_not_active`, `insufficient_balance`. */
export async function commitTransfer(plan: TransferPlan): Promise<void> {
  const { transfer } = plan;
  const table = tableName();
  const fields = transferFields(transfer);
  const item = { ...transferKeys.transfer(transfer.transferId), ...transferKeys.businessListIndex(transfer.businessId, transfer.transferId), entity: 'transfer', ...fields };
  // A transfer never changes after it commits, so each party's entry is a full copy of it.
  const entry = (userId: string, role: 'sender' | 'receiver'): TransactItem => ({
    Put: {
      TableName: table,
      Item: { ...transferKeys.partyEntry(userId, transfer.transferId), entity: 'transfer_entry', role, ...fields },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  });
  const tx = transaction<'sender' | 'receiver' | 'balance' | 'idempotency'>()
    .add(activeUserCheck(transfer.businessId, transfer.senderUserId), 'sender')
    .add(activeUserCheck(transfer.businessId, transfer.receiverUserId), 'receiver')
    .add(debitItem({ kind: 'user', id: transfer.senderUserId }, transfer.currency, transfer.amount), 'balance')
    .add(creditItem({ kind: 'user', id: transfer.receiverUserId }, transfer.currency, transfer.amount))
    .add({ Put: { TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(PK)' } })
    .add(entry(transfer.senderUserId, 'sender'))
    .add(entry(transfer.receiverUserId, 'receiver'))
    .add(postingItem(plan.posting))
    .addAll(outboxEntries(plan.event));
  if (plan.idempotencyCompletion) tx.add(plan.idempotencyCompletion, 'idempotency');

  const result = await tx.commit();
  if (result.committed) return;
  if (result.failed.has('sender')) throw userNotActive('sender');
  if (result.failed.has('receiver')) throw userNotActive('receiver');
  if (result.failed.has('balance')) {
    throw new ApiError('insufficient_balance');
  }
  throw idempotencyInProgress();
}

export function userNotActive(party: 'sender' | 'receiver'): ApiError {
  return new ApiError('user_not_active', { party });
}

export async function getTransfer(transferId: string): Promise<Transfer | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: transferKeys.transfer(transferId) }));
  return result.Item ? fromItem(result.Item) : undefined;
}

export interface TransferPage {
  transfers: Transfer[];
  lastKey?: PageKey;
}

/** One page of a user's transfers (sent and received), newest first. */
export async function listUserTransfers(userId: string, limit: number, startKey?: PageKey): Promise<TransferPage> {
  const prefix = transferKeys.partyPrefix(userId);
  return transferPage(
    queryNewestFirst(
      { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)', ExpressionAttributeValues: { ':pk': prefix.PK, ':prefix': prefix.SKPrefix } },
      TABLE_KEY,
      fromItem,
      limit,
      startKey,
    ),
  );
}

/** One page of a business's transfers, newest first (GSI1; transfer ids are UUID v7). */
export async function listBusinessTransfers(businessId: string, limit: number, startKey?: PageKey): Promise<TransferPage> {
  return transferPage(
    queryShardsNewestFirst(transferKeys.businessListPartitions(businessId), gsi1Shard, 'GSI1SK', fromItem, limit, startKey),
  );
}

async function transferPage(query: Promise<Page<Transfer>>): Promise<TransferPage> {
  const page = await query;
  return { transfers: page.items, ...(page.lastKey ? { lastKey: page.lastKey } : {}) };
}

function transferFields(transfer: Transfer): Record<string, unknown> {
  return {
    transferId: transfer.transferId,
    businessId: transfer.businessId,
    senderUserId: transfer.senderUserId,
    receiverUserId: transfer.receiverUserId,
    currency: transfer.currency,
    amount: transfer.amount.toString(),
    reference: transfer.reference ?? undefined,
    requestedBy: transfer.requestedBy,
    createdAt: transfer.createdAt,
  };
}

function fromItem(item: Record<string, unknown>): Transfer {
  const currency = String(item.currency);
  if (!isCurrency(currency)) throw new Error(`Transfer ${String(item.transferId)} has an unknown currency`);
  return {
    transferId: String(item.transferId),
    businessId: String(item.businessId),
    senderUserId: String(item.senderUserId),
    receiverUserId: String(item.receiverUserId),
    currency,
    amount: BigInt(String(item.amount)),
    reference: typeof item.reference === 'string' ? item.reference : null,
    requestedBy: String(item.requestedBy),
    createdAt: String(item.createdAt),
  };
}

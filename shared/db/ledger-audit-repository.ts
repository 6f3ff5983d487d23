/**
 * The ledger audit's reads. This is an operator tool, not a request path, so it may Scan: it
 * reads every posting and every balance item once, in parallel segments.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { bigintAttr, db, tableName } from './client.ts';

export interface BalanceSnapshot {
  /** `business:<id>` or `user:<id>` */
  owner: string;
  currency: string;
  available: bigint;
  pending: bigint;
}

export interface PostingLegRow {
  postingId: string;
  account: string;
  currency: string;
  amount: bigint;
  /** The posting's kind (`forced_capture` explains an available balance below zero). */
  kind: string;
}

const SEGMENTS = 4;

async function scanEntity(entity: string, onItem: (item: Record<string, unknown>) => void): Promise<void> {
  await Promise.all(
    Array.from({ length: SEGMENTS }, async (_, segment) => {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await db().send(
          new ScanCommand({
            TableName: tableName(),
            Segment: segment,
            TotalSegments: SEGMENTS,
            FilterExpression: 'entity = :entity',
            ExpressionAttributeValues: { ':entity': entity },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) onItem(item);
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }),
  );
}

export async function scanBalances(): Promise<BalanceSnapshot[]> {
  const balances: BalanceSnapshot[] = [];
  await scanEntity('balance', (item) =>
    balances.push({
      owner: `${String(item.ownerKind)}:${String(item.ownerId)}`,
      currency: String(item.currency),
      available: bigintAttr(item.available),
      pending: bigintAttr(item.pending),
    }),
  );
  return balances;
}

export async function scanPostingLegs(): Promise<PostingLegRow[]> {
  const legs: PostingLegRow[] = [];
  await scanEntity('posting', (item) => {
    for (const l of (item.legs ?? []) as Record<string, unknown>[]) {
      legs.push({ postingId: String(item.postingId), account: String(l.account), currency: String(l.currency), amount: BigInt(String(l.amount)), kind: String(item.kind) });
    }
  });
  return legs;
}

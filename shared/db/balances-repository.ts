/**
 * Reads of balance items: `BALANCE#<currency>` under a user (B2C) or a business (B2B). The
 * authorization, topup and deposit transactions write them; this module only reads. `available`
 * and `pending` are DynamoDB numbers in minor units, read as bigint (never through a JS number).
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { bigintAttr, db, tableName } from './client.ts';
import { businessKeys, userKeys } from './keys.ts';

export interface BalanceRow {
  currency: string;
  availableMinor: bigint;
  pendingMinor: bigint;
}

/** Every balance of a user, by currency code. */
export function queryUserBalances(userId: string): Promise<BalanceRow[]> {
  return queryBalances(userKeys.balancesPrefix(userId));
}

/** Every (B2B) balance of a business, by currency code. */
export function queryBusinessBalances(businessId: string): Promise<BalanceRow[]> {
  return queryBalances(businessKeys.balancesPrefix(businessId));
}

async function queryBalances(prefix: { PK: string; SKPrefix: string }): Promise<BalanceRow[]> {
  const rows: BalanceRow[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    // A handful of currencies fits one page; the loop only guards against the 1 MB page limit.
    const result = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': prefix.PK, ':prefix': prefix.SKPrefix },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of result.Items ?? []) {
      rows.push({
        currency: String(item.currency ?? String(item.SK).slice(prefix.SKPrefix.length)),
        availableMinor: bigintAttr(item.available),
        pendingMinor: bigintAttr(item.pending),
      });
    }
    startKey = result.LastEvaluatedKey;
  } while (startKey);
  return rows;
}

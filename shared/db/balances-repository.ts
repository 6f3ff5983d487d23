/**
 * Reads of balance items: `BALANCE#<currency>` under a user (B2C) or a business (B2B). The
 * authorization, topup and deposit transactions write them; this module only reads. `available`
 * and `pending` are DynamoDB numbers in minor units, read as bigint (never through a JS number).
 */
import { bigintAttr } from './client.ts';
import { businessKeys, userKeys } from './keys.ts';
import { queryAllWithPrefix } from './query-page.ts';

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
  return (await queryAllWithPrefix(prefix)).map((item) => ({
    currency: String(item.currency ?? String(item.SK).slice(prefix.SKPrefix.length)),
    availableMinor: bigintAttr(item.available),
    pendingMinor: bigintAttr(item.pending),
  }));
}

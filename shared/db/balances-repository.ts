/**
 * Reads of balance items: `BALANCE#<currency>` under a user (B2C) or a business (B2B). The
 * authorization, topup and deposit transactions write them; this module only reads. `available`
 * and `pending` are DynamoDB numbers in minor units, read as bigint (never through a JS number).
 * A business balance is its pool and its escrow shards (shared/domain/escrow.ts), summed from one
 * atomic read of them all.
 */
import { escrowTotal } from '../domain/escrow.ts';
import { bigintAttr } from './client.ts';
import { readEscrow, shardCountOf } from './escrow-repository.ts';
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

/** Every (B2B) balance of a business, by currency code: each pool with its escrow shards. */
export async function queryBusinessBalances(businessId: string): Promise<BalanceRow[]> {
  const prefix = businessKeys.balancesPrefix(businessId);
  const pools = await queryAllWithPrefix(prefix);
  return Promise.all(
    pools.map(async (pool) => {
      const currency = currencyOf(pool, prefix);
      // The pool just read says how many shards to read with it.
      const escrow = await readEscrow(businessId, currency, 'atomic', shardCountOf(pool));
      return { currency, availableMinor: escrowTotal(escrow), pendingMinor: escrow.pending };
    }),
  );
}

async function queryBalances(prefix: { PK: string; SKPrefix: string }): Promise<BalanceRow[]> {
  return (await queryAllWithPrefix(prefix)).map((item) => ({
    currency: currencyOf(item, prefix),
    availableMinor: bigintAttr(item.available),
    pendingMinor: bigintAttr(item.pending),
  }));
}

function currencyOf(item: Record<string, unknown>, prefix: { SKPrefix: string }): string {
  return String(item.currency ?? String(item.SK).slice(prefix.SKPrefix.length));
}

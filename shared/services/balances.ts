/**
 * Balance reads: a user's (B2C) and the business's own (B2B). Amounts are minor units inside and
 * decimal strings on the wire.
 */
import { formatMoney, isCurrency, type Currency } from '../domain/money.ts';
import { queryBusinessBalances, queryUserBalances, type BalanceRow } from '../db/balances-repository.ts';
import { requireUser } from './users.ts';

/** One balance of API.md. */
export interface BalanceView {
  currency: Currency;
  available: string;
  pending: string;
}

export interface BalanceList {
  data: BalanceView[];
}

/** Formats a balance held in minor units ("12.50", never a JSON number). */
export function balanceView(currency: Currency, availableMinor: bigint, pendingMinor: bigint): BalanceView {
  return { currency, available: formatMoney(availableMinor, currency), pending: formatMoney(pendingMinor, currency) };
}

/** `GET /v1/users/{p_user_id}/balances`; 404 unless the user belongs to the business. */
export async function listUserBalances(businessId: string, userId: string): Promise<BalanceList> {
  // Both reads at once; the balances are discarded unless the user is the business's.
  const [, rows] = await Promise.all([requireUser(businessId, userId), queryUserBalances(userId)]);
  return { data: rows.map(toView) };
}

/** `GET /v1/balances`: the business's own (B2B) balances. */
export async function listBusinessBalances(businessId: string): Promise<BalanceList> {
  const rows = await queryBusinessBalances(businessId);
  return { data: rows.map(toView) };
}

function toView(row: BalanceRow): BalanceView {
  // Balance items are written only by this platform's own transactions: an unknown currency is a bug.
  if (!isCurrency(row.currency)) throw new Error(`Balance item has an unknown currency: ${row.currency}`);
  return balanceView(row.currency, row.availableMinor, row.pendingMinor);
}

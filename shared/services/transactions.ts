/**
 * Reads of card transactions: one by id, and a card's list with status and time filters.
 */
import { findCard } from '../db/cards-repository.ts';
import { getTransaction, listCardTransactions } from '../db/transactions-repository.ts';
import { transactionView, type CardTransactionView, type ListCardTransactionsQuery } from '../domain/transactions.ts';
import { notFound, ValidationError } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';

export async function getCardTransaction(businessId: string, transactionId: string): Promise<CardTransactionView> {
  const txn = await getTransaction(transactionId);
  if (!txn || txn.businessId !== businessId) throw notFound('transaction');
  return transactionView(txn);
}

export async function listTransactionsOfCard(
  businessId: string,
  cardId: string,
  query: ListCardTransactionsQuery,
): Promise<{ data: CardTransactionView[]; next_cursor: string | null }> {
  const card = await findCard(businessId, cardId);
  if (!card) throw notFound('card');
  const from = query.from ? micros(query.from, '000') : undefined;
  const to = query.to ? micros(query.to, '999') : undefined;
  if (from && to && from > to) throw new ValidationError([{ path: 'from', message: 'must not be after `to`' }]);
  const scope = { businessId, list: `cards/${cardId}/transactions?status=${query.status ?? ''}&from=${from ?? ''}&to=${to ?? ''}` };
  const page = await listCardTransactions(
    cardId,
    { ...(query.status ? { status: query.status } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) },
    query.limit,
    await decodeCursor(scope, query.cursor),
  );
  return { data: page.items.map(transactionView), next_cursor: await encodeCursor(scope, page.lastKey) };
}

/**
 * A bound in the stored form (UTC, microseconds) so it compares as text with stored times; `Date`
 * keeps milliseconds, so the bound is padded to the start or the end of its millisecond.
 */
function micros(time: string, pad: '000' | '999'): string {
  return new Date(time).toISOString().replace(/Z$/, `${pad}Z`);
}

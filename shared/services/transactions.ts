/**
 * Reads of card transactions: one by id, a card's list with status and time filters, and the
 * business's whole list, optionally of one card or one user.
 */
import { config } from '../config.ts';
import { findCard } from '../db/cards-repository.ts';
import { holdExpiresAt } from '../domain/hold-expiry.ts';
import { getTransaction, indexUnlistedTransactions, listCardTransactions, listTransactions, type TransactionList } from '../db/transactions-repository.ts';
import { isUuid } from '../domain/ids.ts';
import { transactionView, type CardTransactionView, type ListCardTransactionsQuery, type ListTransactionsQuery } from '../domain/transactions.ts';
import { notFound, ValidationError } from '../errors.ts';
import { decodeCursor, listPage, type ListPage } from '../http/cursor.ts';
import { requireUser } from './users.ts';

export async function getCardTransaction(businessId: string, transactionId: string): Promise<CardTransactionView> {
  const txn = await getTransaction(transactionId);
  if (!txn || txn.businessId !== businessId) throw notFound('transaction');
  return transactionView(txn);
}

export async function listTransactionsOfCard(
  businessId: string,
  cardId: string,
  query: ListCardTransactionsQuery,
): Promise<ListPage<CardTransactionView>> {
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
  return listPage(scope, page.items.map(transactionView), page.lastKey);
}

/**
 * `GET /v1/transactions?card_id=&p_user_id=&status=&type=&from=&to=`, newest first. Each list is
 * one index query: a card's (GSI1) when `card_id` is given, else a user's (GSI3) when `p_user_id`
 * is, else the business's (GSI2). A `card_id` or `p_user_id` that is not the caller's is a 404
 * like a path id; with both, a card of another user lists nothing.
 */
export async function listBusinessTransactions(businessId: string, query: ListTransactionsQuery): Promise<ListPage<CardTransactionView>> {
  if (query.card_id !== undefined) {
    const card = isUuid(query.card_id) ? await findCard(businessId, query.card_id) : undefined;
    if (!card) throw notFound('card');
  }
  if (query.p_user_id !== undefined) await requireUser(businessId, query.p_user_id);
  const { from, to } = bounds(query);
  const list: TransactionList = query.card_id ? { cardId: query.card_id } : query.p_user_id ? { userId: query.p_user_id } : { businessId };
  const filters = { status: query.status, type: query.type, card_id: query.card_id, p_user_id: query.p_user_id, from, to };
  const scope = { businessId, list: `transactions?${Object.entries(filters).map(([name, value]) => `${name}=${value ?? ''}`).join('&')}` };
  const page = await listTransactions(
    list,
    {
      ...(query.status ? { status: query.status } : {}),
      ...(query.type ? { type: query.type } : {}),
      ...(query.card_id && query.p_user_id ? { userId: query.p_user_id } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
    },
    query.limit,
    await decodeCursor(scope, query.cursor),
  );
  return listPage(scope, page.items.map(transactionView), page.lastKey);
}

/**
 * `npm run admin -- index-transactions`: older transactions join the business and user lists, and
 * older holds get their expiry under this stage's policy, counted from the day they were taken.
 */
export function indexOlderTransactions() {
  return indexUnlistedTransactions((mcc, from) => holdExpiresAt(config().HOLD_EXPIRY_DAYS, mcc, from));
}

function bounds(query: { from?: string; to?: string }): { from?: string; to?: string } {
  const from = query.from ? micros(query.from, '000') : undefined;
  const to = query.to ? micros(query.to, '999') : undefined;
  if (from && to && from > to) throw new ValidationError([{ path: 'from', message: 'must not be after `to`' }]);
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

/**
 * A bound in the stored form (UTC, microseconds) so it compares as text with stored times; `Date`
 * keeps milliseconds, so the bound is padded to the start or the end of its millisecond.
 */
function micros(time: string, pad: '000' | '999'): string {
  return new Date(time).toISOString().replace(/Z$/, `${pad}Z`);
}

/**
 * What every service that writes a card transaction (authorizations, increments, reversals,
 * captures, expiries, network postings) builds the same way: whose balance it moves, its webhook
 * event, an amount in the card's currency, which statuses a change may start from, and how often a
 * stale read is tried again.
 */
import { newId } from '../domain/ids.ts';
import type { BalanceOwner } from '../domain/ledger.ts';
import { parseMoney, type CardCurrency } from '../domain/money.ts';
import { transactionWebhookBody, type CardTransaction, type TransactionAction, type TransactionStatus } from '../domain/transactions.ts';
import type { StoredCard } from '../db/cards-repository.ts';
import type { OutboxEvent } from '../db/outbox.ts';
import { ApiError, ValidationError } from '../errors.ts';

/** Who asks for a change of an authorization: a business (its own transactions only) or the card network. */
export type Caller = { businessId: string } | { network: true };

/** Attempts when the card or transaction changes under a write (a concurrent lock, limit, controls change or adjustment). */
export const MAX_STALE_RETRIES = 5;

export function ownerOf(card: StoredCard): BalanceOwner {
  return card.mode === 'B2C' && card.userId ? { kind: 'user', id: card.userId } : { kind: 'business', id: card.businessId };
}

export function ownerOfTxn(txn: CardTransaction): BalanceOwner {
  return txn.mode === 'B2C' && txn.userId ? { kind: 'user', id: txn.userId } : { kind: 'business', id: txn.businessId };
}

export function transactionEvent(action: TransactionAction, txn: CardTransaction): OutboxEvent {
  const payload = transactionWebhookBody(action, txn);
  return { eventId: newId(), businessId: txn.businessId, type: payload.type, queue: 'events', payload: JSON.stringify(payload), createdAt: txn.updatedAt };
}

export function checkPrecision(amount: string, currency: CardCurrency): void {
  try {
    parseMoney(amount, currency);
  } catch (error) {
    throw new ValidationError([{ path: 'amount', message: (error as Error).message }]);
  }
}

export function amountInCardCurrency(amount: string, currency: CardCurrency): bigint {
  checkPrecision(amount, currency);
  return parseMoney(amount, currency);
}

const STATUS_REFUSALS = {
  Declined: 'transaction_declined',
  Reversed: 'transaction_reversed',
  Settled: 'transaction_settled',
  Expired: 'transaction_expired',
} as const;

/** Refuses (409) a transaction whose status is neither `Authorized` (always allowed) nor one of `alsoAllowed`. */
export function assertStatus(txn: CardTransaction, alsoAllowed: readonly TransactionStatus[] = []): void {
  if (txn.status === 'Authorized' || alsoAllowed.includes(txn.status)) return;
  throw new ApiError(STATUS_REFUSALS[txn.status]);
}

/**
 * Card transactions: what an authorization, reversal or settlement records, the `card_transaction`
 * view of API.md and the webhook body that carries it. Pure.
 *
 * Amounts are kept in minor units of their currency. On the wire, debits are negative
 * (`"-101"`), as in the webhooks; the FX fee (`calculated_fee`) is shown as a positive charge.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import type { DeclineReason } from './authorization.ts';
import type { CardMode } from './cards.ts';
import { formatAmount, formatMoney, type CardCurrency } from './money.ts';
import type { WindowPeriods } from './spend-windows.ts';

export const TRANSACTION_STATUSES = ['Authorized', 'Declined', 'Reversed', 'Settled'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

export interface Merchant {
  merchantId: string;
  merchantName: string;
  merchantCountry: string;
  merchantCity: string;
  mcc: string | null;
}

export interface CardTransaction {
  transactionId: string;
  businessId: string;
  cardId: string;
  /** Who pays: the business (B2B) or the card's user (B2C). */
  mode: CardMode;
  userId: string | null;
  status: TransactionStatus;
  type: 'Sales';
  transactionCurrency: string;
  /** The merchant's amount as a positive decimal string, exactly as received. */
  transactionAmount: string;
  localCurrency: CardCurrency;
  /** Converted amount in the card currency, minor units (null when the currency is unsupported). */
  localAmount: bigint | null;
  fee: bigint;
  /** What the hold was: localAmount + fee. */
  heldAmount: bigint;
  /** What is still held: heldAmount less reversals; 0 once settled or fully reversed. */
  remainingHold: bigint;
  reversedAmount: bigint;
  settledAmount: bigint | null;
  /** The calendar periods the amount was counted in, so a reversal gives it back to them. */
  windows: WindowPeriods | null;
  merchant: Merchant;
  declineReason: DeclineReason | null;
  /** The network's own id for the authorization (network route), for support; claimed per card (`NetworkAuthorizationClaim`). */
  networkAuthorizationId: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface CardTransactionView {
  id: string;
  p_business_id: string;
  card: string;
  status: TransactionStatus;
  type: 'Sales';
  transaction_currency: string;
  transaction_amount: string;
  local_currency: string;
  local_amount: string | null;
  final_local_amount: string | null;
  calculated_fee: string;
  merchant_id: string;
  merchant_country: string;
  merchant_city: string;
  merchant_name: string;
  mcc?: string;
  decline_reason?: DeclineReason;
  p_user_id: string | null;
  p_created_at: string;
  p_updated_at: string;
}

const negative = (text: string) => (text === '0' || text.startsWith('-') ? text : `-${text}`);

export function transactionView(txn: CardTransaction): CardTransactionView {
  const money = (minor: bigint) => formatMoney(minor, txn.localCurrency);
  return {
    id: txn.transactionId,
    p_business_id: txn.businessId,
    card: txn.cardId,
    status: txn.status,
    type: txn.type,
    transaction_currency: txn.transactionCurrency,
    transaction_amount: negative(txn.transactionAmount),
    local_currency: txn.localCurrency,
    local_amount: txn.localAmount === null ? null : negative(money(txn.localAmount)),
    final_local_amount: txn.settledAmount === null ? null : negative(money(txn.settledAmount)),
    calculated_fee: money(txn.fee),
    merchant_id: txn.merchant.merchantId,
    merchant_country: txn.merchant.merchantCountry,
    merchant_city: txn.merchant.merchantCity,
    merchant_name: txn.merchant.merchantName,
    ...(txn.merchant.mcc ? { mcc: txn.merchant.mcc } : {}),
    ...(txn.declineReason ? { decline_reason: txn.declineReason } : {}),
    p_user_id: txn.userId,
    p_created_at: txn.createdAt,
    p_updated_at: txn.updatedAt,
  };
}

export type TransactionAction = 'Authorization' | 'Reversed' | 'Settled';

/** The transaction webhook body of API.md. */
export function transactionWebhookBody(action: TransactionAction, txn: CardTransaction): string {
  return JSON.stringify({ action, card_transaction: transactionView(txn) });
}

// ---------------------------------------------------------------------------------------------
// Request schemas

/** A positive decimal string; its precision is checked against the currency once it is known. */
export const PositiveDecimal = z
  .string({ error: 'must be a decimal string such as "12.50"' })
  .max(64)
  .regex(/^(0|[1-9]\d*)(\.\d{1,18})?$/, 'must be a positive decimal string such as "12.50"')
  .refine((text) => /[1-9]/.test(text), 'must be greater than zero');

const CurrencyCode = z.string().regex(/^[A-Z]{3,5}$/, 'must be an upper-case currency code such as "USD"');

const MerchantFields = {
  merchant_name: z.string().trim().max(128).optional(),
  merchant_id: z.string().trim().max(64).optional(),
  merchant_country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code')
    .optional(),
  merchant_city: z.string().trim().max(64).optional(),
  mcc: z
    .string()
    .regex(/^\d{4}$/, 'must be a 4-digit merchant category code')
    .optional(),
};

export const SimulateAuthorizationBody = z.object({
  card_id: z.string().min(1).max(64),
  amount: PositiveDecimal,
  currency: CurrencyCode,
  ...MerchantFields,
});
export type SimulateAuthorizationBody = z.output<typeof SimulateAuthorizationBody>;

export const NetworkAuthorizationBody = z.object({
  card_number: z.string().regex(/^\d{16}$/, 'must be a 16-digit card number'),
  /** The network's id for this authorization: claimed for one card and one set of terms (`NetworkAuthorizationClaim`). */
  network_authorization_id: z.string().min(1).max(128),
  amount: PositiveDecimal,
  currency: CurrencyCode,
  ...MerchantFields,
});
export type NetworkAuthorizationBody = z.output<typeof NetworkAuthorizationBody>;

/** Reverse or settle: an optional amount in the card currency (default: everything still held). */
export const AdjustAuthorizationBody = z.object({ amount: PositiveDecimal.optional() });
export type AdjustAuthorizationBody = z.output<typeof AdjustAuthorizationBody>;

const IsoTime = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time' });

export const ListCardTransactionsQuery = z.object({
  status: z.enum(TRANSACTION_STATUSES).optional(),
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
});
export type ListCardTransactionsQuery = z.output<typeof ListCardTransactionsQuery>;

export function merchantFrom(body: z.output<z.ZodObject<typeof MerchantFields>>): Merchant {
  return {
    merchantId: body.merchant_id ?? '',
    merchantName: body.merchant_name ?? '',
    merchantCountry: body.merchant_country ?? '',
    merchantCity: body.merchant_city ?? '',
    mcc: body.mcc ?? null,
  };
}

/** Normalizes "12.50" to "12.5" without a float. */
export function normalizeDecimal(text: string): string {
  const [whole = '0', fraction = ''] = text.split('.');
  return formatAmount(BigInt(whole + fraction), fraction.length);
}

// ---------------------------------------------------------------------------------------------
// Network authorization ids

/**
 * The network's `network_authorization_id` is global (one processor) and is claimed by the first
 * authorization that carries it, approved or declined, in that authorization's own transaction.
 * The transaction id is never derived from the network id: two cards that receive the same id
 * must never share a transaction (API.md "Network ids are per card").
 */
export interface NetworkAuthorizationClaim {
  networkAuthorizationId: string;
  cardId: string;
  transactionId: string;
  /** `networkAuthorizationFingerprint` of the claiming request. */
  fingerprint: string;
}

/**
 * What a request must share with the claim to be a repeat of it: the card, the amount (as a number:
 * "10.50" repeats "10.5"), the currency and the merchant. Every merchant field counts: a
 * processor's retry resends the same message, so the same id with another merchant is as wrong as
 * one with another amount, and is refused the same way. A digest keeps the claim small; nothing in
 * it is secret (a card id, never a card number).
 */
export function networkAuthorizationFingerprint(terms: { cardId: string; amount: string; currency: string; merchant: Merchant }): string {
  const { merchant } = terms;
  const canonical = JSON.stringify([
    terms.cardId,
    normalizeDecimal(terms.amount),
    terms.currency,
    merchant.merchantId,
    merchant.merchantName,
    merchant.merchantCountry,
    merchant.merchantCity,
    merchant.mcc,
  ]);
  return bytesToHex(sha256(utf8ToBytes(canonical)));
}

/**
 * How a request whose network id is already claimed is answered: `repeat` (the same card and
 * terms) gets the first decision; anything else, above all another card, is a `conflict` and
 * never sees the claim's transaction.
 */
export function repeatOrConflict(claim: NetworkAuthorizationClaim, cardId: string, fingerprint: string): 'repeat' | 'conflict' {
  return claim.cardId === cardId && claim.fingerprint === fingerprint ? 'repeat' : 'conflict';
}

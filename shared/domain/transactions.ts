/**
 * Card transactions: what an authorization, reversal or settlement records, the `card_transaction`
 * view of API.md and the webhook body that carries it. Pure.
 *
 * Amounts are kept in minor units of their currency. On the wire, debits are negative
 * (`"-101"`), as in the webhooks; the FX fee (`calculated_fee`) is shown as a positive charge.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import * as z from '../zod.ts';
import type { Decision } from './authorization-decisions.ts';
import type { DeclineReason } from './authorization.ts';
// Types only: event-types.ts builds its schemas from this module's constants.
import type { CardTransactionView, TransactionEventPayload } from './event-types.ts';
import type { CardMode } from './cards.ts';
import { CARD_CURRENCIES, formatAmount, formatMoney, type CardCurrency } from './money.ts';
import type { WindowPeriods, WindowShare } from './spend-windows.ts';

export const TRANSACTION_STATUSES = ['Authorized', 'Declined', 'Reversed', 'Settled', 'Expired'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

export const TRANSACTION_TYPES = ['Sales', 'Refund'] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

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
  /** `Sales`: a purchase (authorized, or forced by the network); `Refund`: money a merchant gave back. */
  type: TransactionType;
  transactionCurrency: string;
  /** The merchant's amount as a positive decimal string, exactly as received. */
  transactionAmount: string;
  localCurrency: CardCurrency;
  /** Converted amount in the card currency, minor units (null when the currency is unsupported). */
  localAmount: bigint | null;
  fee: bigint;
  /** What was authorized: localAmount + fee (or the partner's approved amount), plus every increment. */
  heldAmount: bigint;
  /** What is still held: heldAmount less reversals and captures; 0 once settled, reversed or expired. */
  remainingHold: bigint;
  reversedAmount: bigint;
  /** The sum of the captures so far (`final_local_amount`); null before the first one. */
  settledAmount: bigint | null;
  /** How much of `fee` the captures have charged so far (a fee is charged once, by the first captures). */
  feeCollected?: bigint;
  /** When the platform releases the hold if it is still held (hold expiry); null once nothing is held. */
  expiresAt?: string | null;
  /** What the expiry released and no late capture has taken yet: the default amount of a late capture. */
  expiredAmount?: bigint;
  /** A force post's `network_settlement_id`, a refund's `network_refund_id`. */
  networkSettlementId?: string;
  networkRefundId?: string;
  /** A refund's `transaction_id`: the purchase it refunds, when the network named one. */
  refundOf?: string;
  /** The calendar periods the amount was counted in, so a reversal gives it back to them. */
  windows: WindowPeriods | null;
  /** What increments made in later periods counted there and still count (absent: none). */
  incrementWindows?: WindowShare[];
  merchant: Merchant;
  declineReason: DeclineReason | null;
  /** The network's own id for the authorization (network route), for support; claimed per card (`NetworkAuthorizationClaim`). */
  networkAuthorizationId: string | null;
  /** Who decided an authorization (absent on records from before real-time decisions). */
  decision?: Decision;
  /**
   * The escrow shard of the business balance the hold is on (shared/domain/escrow.ts): captures,
   * reversals, increments and expiry move that item. Absent: held on the owner's own balance item.
   */
  escrowShard?: number;
  /** A partner's partial approval, minor units of the card currency: what is held. */
  approvedAmount?: bigint;
  /** The partner's own reason for a decline, and the metadata it answered with. */
  partnerReason?: string;
  partnerMetadata?: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** The API's and the webhooks' view of a transaction: its schema is in event-types.ts. */
export type { CardTransactionView };

const debit = (text: string) => (text === '0' || text.startsWith('-') ? text : `-${text}`);

export function transactionView(txn: CardTransaction): CardTransactionView {
  const money = (minor: bigint) => formatMoney(minor, txn.localCurrency);
  // A refund is a credit: its amounts are positive; everything else is a debit.
  const negative = txn.type === 'Refund' ? (text: string) => text : debit;
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
    held_amount: negative(money(txn.remainingHold)),
    merchant_id: txn.merchant.merchantId,
    merchant_country: txn.merchant.merchantCountry,
    merchant_city: txn.merchant.merchantCity,
    merchant_name: txn.merchant.merchantName,
    ...(txn.merchant.mcc ? { mcc: txn.merchant.mcc } : {}),
    ...(txn.declineReason ? { decline_reason: txn.declineReason } : {}),
    ...(txn.partnerReason ? { partner_reason: txn.partnerReason } : {}),
    ...(txn.approvedAmount !== undefined ? { approved_amount: negative(money(txn.approvedAmount)) } : {}),
    ...(txn.partnerMetadata ? { metadata: txn.partnerMetadata } : {}),
    ...(txn.decision ? { decision: decisionView(txn.decision) } : {}),
    ...(txn.expiresAt ? { hold_expires_at: txn.expiresAt } : {}),
    ...(txn.networkSettlementId ? { network_settlement_id: txn.networkSettlementId } : {}),
    ...(txn.networkRefundId ? { network_refund_id: txn.networkRefundId } : {}),
    ...(txn.refundOf ? { refunded_transaction_id: txn.refundOf } : {}),
    p_user_id: txn.userId,
    p_created_at: txn.createdAt,
    p_updated_at: txn.updatedAt,
  };
}

function decisionView(decision: Decision): { source: Decision['source']; latency_ms: number; reason?: string } {
  return { source: decision.source, latency_ms: decision.latencyMs, ...(decision.reason ? { reason: decision.reason } : {}) };
}

export type TransactionAction = 'Authorization' | 'Reversed' | 'Settled' | 'Refund' | 'Expired';

/** The event type of each transaction webhook `action` (API.md "Event types"). */
export const TRANSACTION_EVENT_TYPES = {
  Authorization: 'transaction.authorization',
  Reversed: 'transaction.reversal',
  Settled: 'transaction.settlement',
  Refund: 'transaction.refund',
  Expired: 'transaction.expiry',
} as const;

/** The transaction webhook body of API.md, with its event `type`. */
export function transactionWebhookBody<A extends TransactionAction>(action: A, txn: CardTransaction): TransactionEventPayload<A> {
  return { action, type: TRANSACTION_EVENT_TYPES[action], card_transaction: transactionView(txn) };
}

// ---------------------------------------------------------------------------------------------
// Request schemas

/** A positive decimal string; its precision is checked against the currency once it is known. */
export const PositiveDecimal = z
  .string({ error: 'must be a decimal string such as "12.50"' })
  .check(
    z.maxLength(64),
    z.regex(/^(0|[1-9]\d*)(\.\d{1,18})?$/, 'must be a positive decimal string such as "12.50"'),
    z.refine((text) => /[1-9]/.test(text), 'must be greater than zero'),
  );

/** `POST /v1/simulate/topups`: credit the business's own balance in a card currency. */
export const TopupBody = z.object({ currency: z.enum(CARD_CURRENCIES), amount: PositiveDecimal });
export type TopupBody = z.output<typeof TopupBody>;

const CurrencyCode = z.string().check(z.regex(/^[A-Z]{3,5}$/, 'must be an upper-case currency code such as "USD"'));

const MerchantFields = {
  merchant_name: z.optional(z.string().check(z.trim(), z.maxLength(128))),
  merchant_id: z.optional(z.string().check(z.trim(), z.maxLength(64))),
  merchant_country: z.optional(z.string().check(z.regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code'))),
  merchant_city: z.optional(z.string().check(z.trim(), z.maxLength(64))),
  mcc: z.optional(z.string().check(z.regex(/^\d{4}$/, 'must be a 4-digit merchant category code'))),
};

export const SimulateAuthorizationBody = z.object({
  card_id: z.string().check(z.minLength(1), z.maxLength(64)),
  amount: PositiveDecimal,
  currency: CurrencyCode,
  ...MerchantFields,
});
export type SimulateAuthorizationBody = z.output<typeof SimulateAuthorizationBody>;

const CardNumber = z.string().check(z.regex(/^\d{16}$/, 'must be a 16-digit card number'));

export const NetworkAuthorizationBody = z.object({
  card_number: CardNumber,
  /** The network's id for this authorization: claimed for one card and one set of terms (`NetworkAuthorizationClaim`). */
  network_authorization_id: z.string().check(z.minLength(1), z.maxLength(128)),
  amount: PositiveDecimal,
  currency: CurrencyCode,
  ...MerchantFields,
});
export type NetworkAuthorizationBody = z.output<typeof NetworkAuthorizationBody>;

/** Reverse: an optional amount in the card currency (default: everything still held). */
export const AdjustAuthorizationBody = z.object({ amount: z.optional(PositiveDecimal) });
export type AdjustAuthorizationBody = z.output<typeof AdjustAuthorizationBody>;

/**
 * Settle (capture): an optional amount in the card currency (default: everything still held, or
 * what an expired authorization held) and whether it is the last capture (default true).
 * `final: false` posts the amount and keeps the rest held for later captures.
 */
export const CaptureBody = z.object({ amount: z.optional(PositiveDecimal), final: z.optional(z.boolean()) });
export type CaptureBody = z.output<typeof CaptureBody>;

/** Increment: the extra amount, in the transaction (merchant) currency. */
export const IncrementBody = z.object({ amount: PositiveDecimal });
export type IncrementBody = z.output<typeof IncrementBody>;

/**
 * A force post (`POST /network/settlements`, `POST /v1/simulate/settlements`): a capture the
 * network sends with no authorization; it always posts. Idempotent by `network_settlement_id`.
 */
const ForcePostFields = {
  network_settlement_id: z.string().check(z.minLength(1), z.maxLength(128)),
  amount: PositiveDecimal,
  currency: CurrencyCode,
  ...MerchantFields,
};
export const NetworkForcePostBody = z.object({ card_number: CardNumber, ...ForcePostFields });
export type NetworkForcePostBody = z.output<typeof NetworkForcePostBody>;
export const SimulateForcePostBody = z.object({ card_id: z.string().check(z.minLength(1), z.maxLength(64)), ...ForcePostFields });
export type SimulateForcePostBody = z.output<typeof SimulateForcePostBody>;

/**
 * A refund (`POST /network/refunds`, `POST /v1/simulate/refunds`): a credit from a merchant,
 * optionally naming the purchase it refunds. Idempotent by `network_refund_id`.
 */
const RefundFields = {
  network_refund_id: z.string().check(z.minLength(1), z.maxLength(128)),
  amount: PositiveDecimal,
  currency: CurrencyCode,
  transaction_id: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  ...MerchantFields,
};
export const NetworkRefundBody = z.object({ card_number: CardNumber, ...RefundFields });
export type NetworkRefundBody = z.output<typeof NetworkRefundBody>;
export const SimulateRefundBody = z.object({ card_id: z.string().check(z.minLength(1), z.maxLength(64)), ...RefundFields });
export type SimulateRefundBody = z.output<typeof SimulateRefundBody>;

const IsoTime = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time' });

export const ListCardTransactionsQuery = z.object({
  status: z.optional(z.enum(TRANSACTION_STATUSES)),
  from: z.optional(IsoTime),
  to: z.optional(IsoTime),
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  cursor: z.optional(z.string().check(z.maxLength(2048))),
});
export type ListCardTransactionsQuery = z.output<typeof ListCardTransactionsQuery>;

/** `GET /v1/transactions`: every transaction of the business, or of one card or user. */
export const ListTransactionsQuery = z.extend(ListCardTransactionsQuery, {
  /** Any text: a filter names a card or a user, and one that is not the caller's is a 404 (the service decides). */
  card_id: z.optional(z.string().check(z.maxLength(64))),
  p_user_id: z.optional(z.string().check(z.maxLength(64))),
  type: z.optional(z.enum(TRANSACTION_TYPES)),
});
export type ListTransactionsQuery = z.output<typeof ListTransactionsQuery>;

export function merchantFrom(body: z.output<z.ZodMiniObject<typeof MerchantFields>>): Merchant {
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
export function networkAuthorizationFingerprint(terms: { cardId: string; amount: string; currency: string; merchant: Merchant; reference?: string }): string {
  const { merchant } = terms;
  const canonical = JSON.stringify([
    // A refund's named purchase counts too; an authorization has none (and its digest is unchanged).
    ...(terms.reference === undefined ? [] : [terms.reference]),
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

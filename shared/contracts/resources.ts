/**
 * The response bodies of the API: one schema per resource, named (`z.meta({ id })`) so the OpenAPI
 * description shows each once under `components.schemas` and the typed client names it. The views
 * of `shared/domain/` are typed from these (`z.input<typeof Card>`), so a view and its description
 * cannot drift apart; the integration tests check every answer against the generated description.
 */
import * as z from '../zod.ts';
import { DECLINE_REASONS } from '../domain/authorization.ts';
import { CARD_AUDIT_ACTIONS, CARD_FORMS, CARD_MODES, CARD_STATUSES, LIMIT_RULES } from '../domain/cards.ts';
import { CHAINS, DEPOSIT_ASSETS } from '../domain/chains.ts';
import { ID_TYPES } from '../domain/ekyc.ts';
import { CARD_CURRENCIES, CURRENCY_EXPONENTS } from '../domain/money.ts';
import { USER_STATUSES } from '../domain/users.ts';
import { DELIVERY_STATUSES } from '../domain/webhook-delivery.ts';
import { CardTransactionSchema, DepositSchema, EVENT_TYPES, TransferSchema } from '../domain/event-types.ts';

/** A platform id (API.md: ids are UUIDs). */
export const Id = z.uuid();
/** RFC 3339 UTC with microseconds, e.g. `2025-03-04T03:32:11.051702Z`. */
export const Timestamp = z.string().check(z.meta({ format: 'date-time', example: '2025-03-04T03:32:11.051702Z' }));
/** Money: a decimal string in major units, never a JSON number; debits are negative. */
export const Amount = z
  .string()
  .check(z.regex(/^-?\d+(\.\d+)?$/), z.meta({ description: 'A decimal string in major units of its currency (never a JSON number).', example: '12.50' }));
export const CardCurrency = z.enum(CARD_CURRENCIES);
export const Currency = z.enum(Object.keys(CURRENCY_EXPONENTS) as [keyof typeof CURRENCY_EXPONENTS, ...(keyof typeof CURRENCY_EXPONENTS)[]]);

/** One page of a list, named `id` in the description: newest first, and the cursor of the next page (`null` on the last). */
export function listPage<T extends z.ZodMiniType>(item: T, id: string) {
  return z
    .object({
      data: z.array(item),
      next_cursor: z.nullable(z.string()).check(z.meta({ description: 'Pass as `?cursor=` for the next page; null on the last page.' })),
    })
    .check(z.meta({ id }));
}

// ---------------------------------------------------------------------------------------------
// Users

export const MaskedEkyc = z
  .object({
    first_name: z.string(),
    last_name: z.string(),
    nationality: z.string(),
    id_type: z.enum(ID_TYPES),
    id_number_last4: z.string(),
    email: z.string(),
    phone: z.string(),
  })
  .check(z.meta({ id: 'MaskedEkyc', description: 'The eKYC as the API shows it: the id number reduced to its last 4 characters.' }));

export const User = z
  .object({
    p_user_id: Id,
    p_business_id: Id,
    status: z.enum(USER_STATUSES),
    external_id: z.nullable(z.string()),
    ekyc: MaskedEkyc,
    p_created_at: Timestamp,
    p_updated_at: Timestamp,
  })
  .check(z.meta({ id: 'User', description: 'A B2C cardholder of the business.' }));

export const Balance = z.object({ currency: Currency, available: Amount, pending: Amount }).check(z.meta({ id: 'Balance' }));
export const BalanceList = z.object({ data: z.array(Balance) }).check(z.meta({ id: 'BalanceList' }));

// ---------------------------------------------------------------------------------------------
// Cards

export const Limits = z
  .object(Object.fromEntries(LIMIT_RULES.map((rule) => [rule, Amount])) as Record<(typeof LIMIT_RULES)[number], typeof Amount>)
  .check(z.meta({ id: 'Limits', description: 'Per-transaction, daily, monthly and lifetime limits in the card currency; "0" is off.' }));

export const Controls = z
  .object({
    allowed_mccs: z.array(z.string()),
    blocked_mccs: z.array(z.string()),
    allowed_countries: z.array(z.string()),
    blocked_countries: z.array(z.string()),
    max_daily_count: z.int().check(z.gte(0), z.meta({ description: 'Approved authorizations per day (business timezone); 0 is off.' })),
  })
  .check(z.meta({ id: 'Controls', description: 'Merchant category and country allow/block lists and a daily count; an empty list does not restrict.' }));

export const BusinessControls = z
  .object({ controls: Controls, p_updated_at: z.nullable(Timestamp) })
  .check(z.meta({ id: 'BusinessControls', description: "The business's default controls, applied to every card on top of the card's own." }));

const SpendWindow = z.object({
  limit: Amount.check(z.meta({ description: 'The limit; "0" is off.' })),
  spent: Amount,
  remaining: z.nullable(Amount).check(z.meta({ description: 'What is left before the limit; null when the rule is off.' })),
});

export const CardSpend = z
  .object({
    currency: CardCurrency,
    daily: z.extend(SpendWindow, { resets_at: Timestamp }),
    monthly: z.extend(SpendWindow, { resets_at: Timestamp }),
    lifetime: SpendWindow,
    daily_count: z.object({
      limit: z.int().check(z.gte(0), z.meta({ description: "The stricter of the card's and the business's `max_daily_count`; 0 is off." })),
      used: z.int().check(z.gte(0)),
    }),
  })
  .check(z.meta({ id: 'CardSpend', description: 'What a card spent in its current windows and what it may still spend (days and months in the business timezone).' }));

export const Card = z
  .object({
    id: Id,
    p_business_id: Id,
    mode: z.enum(CARD_MODES),
    p_user_id: z.nullable(Id),
    form: z.enum(CARD_FORMS),
    status: z.enum(CARD_STATUSES),
    currency: CardCurrency,
    card_num: z.string().check(z.meta({ description: 'First 6 and last 4 digits, e.g. 356772******8213.' })),
    last4: z.string(),
    limits: Limits,
    controls: Controls,
    nickname: z.nullable(z.string()),
    p_created_at: Timestamp,
    p_updated_at: Timestamp,
  })
  .check(z.meta({ id: 'Card', description: 'A JCB card (standard view: never the full number, expiry or CVV).' }));

export const CardFullDetails = z
  .object({ id: Id, card_number: z.string(), expiry_month: z.string(), expiry_year: z.string(), cvv: z.string() })
  .check(z.meta({ id: 'CardFullDetails', description: 'The card number, expiry and CVV. Every read is audited; never cached.' }));

export const CardAuditEvent = z
  .object({
    id: Id,
    p_card_id: Id,
    p_business_id: Id,
    key_id: z.string().check(z.meta({ description: 'The id of the API key that acted (never the key).' })),
    action: z.enum(CARD_AUDIT_ACTIONS),
    from_status: z.nullable(z.enum(CARD_STATUSES)),
    to_status: z.nullable(z.enum(CARD_STATUSES)),
    from_limits: z.nullable(Limits).check(z.meta({ description: 'On `limits_update`: the limits before.' })),
    to_limits: z.nullable(Limits).check(z.meta({ description: 'On `limits_update`: the limits after.' })),
    from_controls: z.nullable(Controls).check(z.meta({ description: 'On `controls_update`: the controls before.' })),
    to_controls: z.nullable(Controls).check(z.meta({ description: 'On `controls_update`: the controls after.' })),
    reveal_origin: z.nullable(z.string()).check(z.meta({ description: 'On a `reveal` through a reveal link: the origin allowed to frame the page; null for `GET /v1/cards/{id}/full`.' })),
    p_created_at: Timestamp,
  })
  .check(z.meta({ id: 'CardAuditEvent', description: 'Who revealed or changed a card (status, limits, controls), and when.' }));

// ---------------------------------------------------------------------------------------------
// Transactions

/** One definition with the webhook payloads that embed it (shared/domain/event-types.ts). */
export const CardTransaction = CardTransactionSchema.check(z.meta({ id: 'CardTransaction', description: 'An authorization and what became of it; debits are negative.' }));

// ---------------------------------------------------------------------------------------------
// Wallets, deposits, transfers, top-ups

export const WalletAddress = z
  .object({
    chain: z.enum(CHAINS),
    address: z.string(),
    derivation_path: z.string(),
    assets: z.array(z.enum(DEPOSIT_ASSETS)),
    p_user_id: Id,
    p_created_at: Timestamp,
  })
  .check(z.meta({ id: 'WalletAddress', description: "A user's deposit address on one chain." }));

export const WalletAddressList = z
  .object({ data: z.array(WalletAddress), next_cursor: z.null() })
  .check(z.meta({ id: 'WalletAddressList', description: 'Every address of the user (one per chain): a single page.' }));

export const Deposit = DepositSchema.check(z.meta({ id: 'Deposit', description: 'An on-chain deposit credited to a user.' }));

export const Transfer = TransferSchema.check(z.meta({ id: 'Transfer', description: 'Money moved between two users of the business.' }));

export const Topup = z
  .object({ id: Id, p_business_id: Id, status: z.literal('Completed'), currency: CardCurrency, amount: Amount, p_created_at: Timestamp })
  .check(z.meta({ id: 'Topup', description: "A sandbox credit of the business's own balance." }));

// ---------------------------------------------------------------------------------------------
// 3DS

export const Challenge = z.object({ verification_id: Id, expires_at: Timestamp }).check(z.meta({ id: 'Challenge', description: 'A 3DS challenge; its code is sent by webhook.' }));

export const Verification = z
  .object({ verification_id: Id, status: z.enum(['Verified', 'Failed', 'Expired', 'Locked']), attempts_remaining: z.int().check(z.gte(0)) })
  .check(z.meta({ id: 'Verification', description: 'The outcome of a 3DS code.' }));

// ---------------------------------------------------------------------------------------------
// Events

export const DeliveryAttempt = z
  .object({ attempted_at: Timestamp, status_code: z.nullable(z.int()), error: z.nullable(z.string()), duration_ms: z.number() })
  .check(z.meta({ id: 'DeliveryAttempt' }));

export const Event = z
  .object({
    id: Id,
    p_business_id: Id,
    type: z.string(),
    payload: z.unknown().check(z.meta({ description: 'The webhook body (a 3DS event without its code).' })),
    delivery_status: z.enum(DELIVERY_STATUSES),
    attempt_count: z.int().check(z.gte(0)),
    attempts: z.array(DeliveryAttempt),
    next_attempt_at: z.nullable(Timestamp),
    delivered_at: z.nullable(Timestamp),
    p_created_at: Timestamp,
  })
  .check(z.meta({ id: 'Event', description: 'A webhook event and its delivery.' }));

export const EventTypeList = z
  .object({
    data: z.array(
      z.object({
        type: z.enum(EVENT_TYPES),
        description: z.string(),
        schema: z.record(z.string(), z.unknown()).check(z.meta({ description: 'JSON Schema (2020-12) of the payload.' })),
      }),
    ),
  })
  .check(z.meta({ id: 'EventTypeList', description: 'Every webhook event type, its description and the JSON Schema of its payload.' }));

// ---------------------------------------------------------------------------------------------
// Errors

/** The one error body (API.md). */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().check(z.meta({ description: 'Machine-readable; each operation lists the codes it may answer per status.' })),
      message: z.string(),
      request_id: z.string(),
      fields: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))).check(z.meta({ description: 'Only on `validation_error`: what is wrong where.' })),
      party: z.optional(z.enum(['sender', 'receiver', 'both'])).check(z.meta({ description: 'On a transfer: which party the error concerns.' })),
      decline_reason: z.optional(z.enum(DECLINE_REASONS)).check(z.meta({ description: 'Only on `increment_declined`: why, as an authorization\'s decline_reason.' })),
    }),
  })
  .check(z.meta({ id: 'Error' }));

/** The error body with the codes an operation may answer for one status. */
export function errorBody(codes: readonly [string, ...string[]]) {
  return z.intersection(ErrorBody, z.looseObject({ error: z.looseObject({ code: z.enum(codes) }) }));
}

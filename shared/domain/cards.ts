/**
 * Cards: the request schemas of API.md, the lifecycle state machine, spending limits, and the
 * views a partner sees. Pure: no AWS. Card numbers, expiry and CVV are in `./card-number.ts`.
 */
import * as z from '../zod.ts';
import { ValidationError, type FieldIssue } from '../errors.ts';
import { ControlsBody, controlsView, type ControlsView, type SpendingControls } from './controls.ts';
import { CARD_CURRENCIES, MoneyFormatError, formatMoney, parseMoney, type CardCurrency } from './money.ts';
import { EkycAddressSchema } from './users.ts';

export const CARD_MODES = ['B2B', 'B2C'] as const;
export type CardMode = (typeof CARD_MODES)[number];

export const CARD_FORMS = ['virtual', 'physical'] as const;
export type CardForm = (typeof CARD_FORMS)[number];

export const CARD_STATUSES = ['Active', 'Locked', 'Terminated'] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];

// ---------------------------------------------------------------------------------------------
// Lifecycle

export const CARD_ACTIONS = ['lock', 'unlock', 'terminate'] as const;
export type CardAction = (typeof CARD_ACTIONS)[number];

/** The 409 codes of API.md for a transition the current status forbids. */
export type CardConflictCode = 'card_terminated' | 'card_not_locked' | 'card_already_locked';

export type Transition = { allowed: true; to: CardStatus } | { allowed: false; code: CardConflictCode };

/**
 * The whole state machine: Active <-> Locked, either -> Terminated, and nothing leaves
 * Terminated (it is permanent: a terminated card number is never reactivated).
 */
export function transition(from: CardStatus, action: CardAction): Transition {
  if (from === 'Terminated') return { allowed: false, code: 'card_terminated' };
  switch (action) {
    case 'lock':
      return from === 'Active'
        ? { allowed: true, to: 'Locked' }
        : { allowed: false, code: 'card_already_locked' };
    case 'unlock':
      return from === 'Locked'
        ? { allowed: true, to: 'Active' }
        : { allowed: false, code: 'card_not_locked' };
    case 'terminate':
      return { allowed: true, to: 'Terminated' };
  }
}

/** Whether limits and other settings may still change: not on a terminated card. */
export function isModifiable(status: CardStatus): boolean {
  return status !== 'Terminated';
}

// ---------------------------------------------------------------------------------------------
// Limits

export const LIMIT_RULES = ['transaction', 'daily', 'monthly', 'lifetime'] as const;
export type LimitRule = (typeof LIMIT_RULES)[number];

/** Minor units per rule; 0 means the rule is off. */
export type CardLimits = Record<LimitRule, bigint>;

export const NO_LIMITS: CardLimits = { transaction: 0n, daily: 0n, monthly: 0n, lifetime: 0n };

/**
 * Upper bound of a limit in minor units (exclusive): 10^18 fits a signed 64-bit integer, which is
 * what downstream processors and ledgers use, and leaves a spend counter plus one authorization far
 * inside DynamoDB's 38-digit numbers.
 */
export const LIMIT_MAX_MINOR_EXCLUSIVE = 10n ** 18n;

/** What is wrong with one limit's decimal string in `currency`, or undefined if it is fine. */
export function limitProblem(text: string, currency: CardCurrency): string | undefined {
  let minor: bigint;
  try {
    minor = parseMoney(text, currency);
  } catch (error) {
    if (error instanceof MoneyFormatError) return error.message;
    throw error;
  }
  if (minor < 0n) return 'must not be negative';
  if (minor >= LIMIT_MAX_MINOR_EXCLUSIVE) return 'is too large';
  return undefined;
}

export type LimitsInput = Partial<Record<LimitRule, string>>;

/**
 * Parses decimal-string limits in the card's currency: non-negative, at most the currency's
 * decimals (JPY none); a missing rule is "0" (off). Throws a 400 `validation_error` naming every
 * bad rule as `<prefix><rule>` (`limits.daily` on create, `daily` on PUT).
 */
export function parseCardLimits(input: LimitsInput, currency: CardCurrency, pathPrefix = ''): CardLimits {
  const fields: FieldIssue[] = [];
  const limits: CardLimits = { ...NO_LIMITS };
  for (const rule of LIMIT_RULES) {
    const text = input[rule];
    if (text === undefined) continue;
    const problem = limitProblem(text, currency);
    if (problem) fields.push({ path: `${pathPrefix}${rule}`, message: problem });
    else limits[rule] = parseMoney(text, currency);
  }
  if (fields.length) throw new ValidationError(fields);
  return limits;
}

export type LimitsView = Record<LimitRule, string>;

export function limitsView(limits: CardLimits, currency: CardCurrency): LimitsView {
  return {
    transaction: formatMoney(limits.transaction, currency),
    daily: formatMoney(limits.daily, currency),
    monthly: formatMoney(limits.monthly, currency),
    lifetime: formatMoney(limits.lifetime, currency),
  };
}

// ---------------------------------------------------------------------------------------------
// Records and views

/** A card as stored, without its sealed secrets. */
export interface CardRecord {
  cardId: string;
  businessId: string;
  mode: CardMode;
  userId: string | null;
  form: CardForm;
  status: CardStatus;
  currency: CardCurrency;
  /** First 6 + last 4; the only form of the number outside the sealed bundle. */
  maskedNumber: string;
  last4: string;
  limits: CardLimits;
  /** The card's own spending controls (the business's defaults apply on top). */
  controls: SpendingControls;
  nickname: string | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  statusChangedAt: string;
  statusChangedBy: string;
  /** Incremented by every change; each change is conditional on the version it read. */
  version: number;
}

/** The secrets of a card, only ever stored sealed (envelope-encrypted) as one bundle. */
export interface CardSecrets {
  number: string;
  expiry_month: string;
  expiry_year: string;
  cvv: string;
}

/** The card of API.md (standard view: never the full number, expiry or CVV). */
export interface CardView {
  id: string;
  p_business_id: string;
  mode: CardMode;
  p_user_id: string | null;
  form: CardForm;
  status: CardStatus;
  currency: CardCurrency;
  card_num: string;
  last4: string;
  limits: LimitsView;
  controls: ControlsView;
  nickname: string | null;
  p_created_at: string;
  p_updated_at: string;
}

export function cardView(card: CardRecord): CardView {
  return {
    id: card.cardId,
    p_business_id: card.businessId,
    mode: card.mode,
    p_user_id: card.userId,
    form: card.form,
    status: card.status,
    currency: card.currency,
    card_num: card.maskedNumber,
    last4: card.last4,
    limits: limitsView(card.limits, card.currency),
    controls: controlsView(card.controls),
    nickname: card.nickname,
    p_created_at: card.createdAt,
    p_updated_at: card.updatedAt,
  };
}

/** `GET /v1/cards/{id}/spend`: amounts in the card currency; `remaining` null where the rule is off. */
export interface CardSpendView {
  currency: CardCurrency;
  daily: { limit: string; spent: string; remaining: string | null; resets_at: string };
  monthly: { limit: string; spent: string; remaining: string | null; resets_at: string };
  lifetime: { limit: string; spent: string; remaining: string | null };
  daily_count: { limit: number; used: number };
}

/** `GET /v1/cards/{id}/full` */
export interface CardFullDetailsView {
  id: string;
  card_number: string;
  expiry_month: string;
  expiry_year: string;
  cvv: string;
}

export function cardFullDetailsView(cardId: string, secrets: CardSecrets): CardFullDetailsView {
  return {
    id: cardId,
    card_number: secrets.number,
    expiry_month: secrets.expiry_month,
    expiry_year: secrets.expiry_year,
    cvv: secrets.cvv,
  };
}

/**
 * What was done to a card and by whom: every reveal of its full details, every status change and
 * every change of its limits or controls (with what they were and what they became). Never the
 * card's secret values.
 */
export const CARD_AUDIT_ACTIONS = ['reveal', 'lock', 'unlock', 'terminate', 'limits_update', 'controls_update'] as const;
export type CardAuditAction = (typeof CARD_AUDIT_ACTIONS)[number];

/** The settings a `limits_update` or `controls_update` changed, as the API showed them before and after. */
export type CardSettingsChange =
  | { setting: 'limits'; from: LimitsView; to: LimitsView }
  | { setting: 'controls'; from: ControlsView; to: ControlsView };

export interface CardAuditEvent {
  eventId: string;
  cardId: string;
  businessId: string;
  /** The API key's id that acted (never the key). */
  keyId: string;
  action: CardAuditAction;
  fromStatus: CardStatus | null;
  toStatus: CardStatus | null;
  /** On `limits_update` and `controls_update`. */
  change?: CardSettingsChange;
  /** On a `reveal` through a reveal link (not `/full`): the origin that framed the page. */
  origin?: string;
  at: string;
}

export interface CardAuditEventView {
  id: string;
  p_card_id: string;
  p_business_id: string;
  key_id: string;
  action: CardAuditAction;
  from_status: CardStatus | null;
  to_status: CardStatus | null;
  from_limits: LimitsView | null;
  to_limits: LimitsView | null;
  from_controls: ControlsView | null;
  to_controls: ControlsView | null;
  reveal_origin: string | null;
  p_created_at: string;
}

export function cardAuditEventView(event: CardAuditEvent): CardAuditEventView {
  return {
    id: event.eventId,
    p_card_id: event.cardId,
    p_business_id: event.businessId,
    key_id: event.keyId,
    action: event.action,
    from_status: event.fromStatus,
    to_status: event.toStatus,
    from_limits: event.change?.setting === 'limits' ? event.change.from : null,
    to_limits: event.change?.setting === 'limits' ? event.change.to : null,
    from_controls: event.change?.setting === 'controls' ? event.change.from : null,
    to_controls: event.change?.setting === 'controls' ? event.change.to : null,
    reveal_origin: event.origin ?? null,
    p_created_at: event.at,
  };
}

// ---------------------------------------------------------------------------------------------
// Request schemas

/** A limit as it arrives: a decimal string (never a JSON number); its precision is checked per currency. */
const LimitAmount = z.string({ error: 'must be a decimal string such as "100.00"' }).check(z.maxLength(64));

export const CreateCardBody = z
  .object({
    mode: z.enum(CARD_MODES),
    /** Required for B2C, forbidden for B2B (checked below, with the field's path). */
    p_user_id: z.optional(z.nullable(z.string().check(z.minLength(1), z.maxLength(64)))),
    form: z._default(z.enum(CARD_FORMS), 'virtual'),
    currency: z._default(z.enum(CARD_CURRENCIES), 'USD'),
    limits: z.optional(
      z.object({
        transaction: z.optional(LimitAmount),
        daily: z.optional(LimitAmount),
        monthly: z.optional(LimitAmount),
        lifetime: z.optional(LimitAmount),
      }),
    ),
    /** The card's spending controls (API.md "Spending controls"); missing: none. */
    controls: z.optional(ControlsBody),
    nickname: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(64))),
    /** Where a physical card is sent; the same address shape as eKYC. */
    shipping: z.optional(EkycAddressSchema),
  })
  // The cross-field rules run even when another field is already invalid (`when`), so a partner
  // sees every problem of a request at once; hence the defensive reads of `body`.
  .check(
    z.superRefine(
      (body, ctx) => {
        if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
        const userGiven = typeof body.p_user_id === 'string' && body.p_user_id !== '';
        if (body.mode === 'B2C' && !userGiven) {
          ctx.addIssue({ code: 'custom', path: ['p_user_id'] });
        }
        if (body.mode === 'B2B' && userGiven) {
          ctx.addIssue({ code: 'custom', path: ['p_user_id'] });
        }
        if (body.form === 'physical' && body.shipping === undefined) {
          ctx.addIssue({ code: 'custom', path: ['shipping'] });
        }
        if (body.form === 'virtual' && body.shipping !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['shipping'] });
        }
        if (!(CARD_CURRENCIES as readonly string[]).includes(body.currency)) return;
        for (const rule of LIMIT_RULES) {
          const text: unknown = body.limits?.[rule];
          const problem = typeof text === 'string' ? limitProblem(text, body.currency) : undefined;
          if (problem) ctx.addIssue({ code: 'custom', path: ['limits', rule], message: problem });
        }
      },
      { when: () => true },
    ),
  );
export type CreateCardBody = z.output<typeof CreateCardBody>;

/** `PUT /v1/cards/{id}/limits`: all four rules, as decimal strings ("0" turns a rule off). */
export const UpdateCardLimitsBody = z.object({
  transaction: LimitAmount,
  daily: LimitAmount,
  monthly: LimitAmount,
  lifetime: LimitAmount,
});
export type UpdateCardLimitsBody = z.output<typeof UpdateCardLimitsBody>;

/** `PUT /v1/cards/{id}/controls` and `PUT /v1/controls`: the whole set; a missing field is cleared. */
export const UpdateControlsBody = ControlsBody;
export type UpdateControlsBody = ControlsBody;

/** `GET /v1/cards` */
export const ListCardsQuery = z.object({
  status: z.optional(z.enum(CARD_STATUSES)),
  /** Any text: a filter names a user, and one that is not the caller's is a 404 (the service decides). */
  p_user_id: z.optional(z.string()),
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  cursor: z.optional(z.string().check(z.minLength(1))),
});
export type ListCardsQuery = z.output<typeof ListCardsQuery>;

/** `GET /v1/cards/{id}/audit-events` */
export const ListCardAuditEventsQuery = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  cursor: z.optional(z.string().check(z.minLength(1))),
});
export type ListCardAuditEventsQuery = z.output<typeof ListCardAuditEventsQuery>;

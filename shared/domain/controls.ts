/**
 * Spending controls (API.md "Spending controls"): merchant category and country allow/block
 * lists and a daily count of approved authorizations, set on a card and, as defaults for every
 * card, on its business. Both levels must pass. Pure: no AWS.
 *
 * - An empty or missing list does not restrict. A non-empty allow list admits only what it names,
 *   so a merchant that sends no MCC (or no country) cannot be shown to be in it and is declined;
 *   a block list refuses what it names, and a merchant without the field is not refused by it.
 * - `max_daily_count` (0 = off) caps the authorizations APPROVED per business-timezone day, the
 *   same day as the daily limit. With both levels on, the stricter (smaller) one governs.
 */
import * as z from '../zod.ts';
import type { DeclineReason } from './authorization.ts';
import { isCountryCode } from './ekyc.ts';

export interface SpendingControls {
  allowedMccs: string[];
  blockedMccs: string[];
  allowedCountries: string[];
  blockedCountries: string[];
  /** Approved authorizations per day; 0 = off. */
  maxDailyCount: number;
}

export const NO_CONTROLS: SpendingControls = { allowedMccs: [], blockedMccs: [], allowedCountries: [], blockedCountries: [], maxDailyCount: 0 };

/** A day's count above this is not a control any program needs; it keeps the counter far from overflow. */
export const MAX_DAILY_COUNT = 100_000;
/** There are fewer than 1,000 assigned MCCs and 249 countries: a longer list is a mistake. */
const MAX_LIST = 1_000;

const Mcc = z.string().check(z.regex(/^\d{4}$/, 'must be a 4-digit merchant category code such as "5814"'));
const Country = z.string().check(z.refine(isCountryCode, 'must be an ISO 3166-1 alpha-2 country code such as "HK"'));

/** The `controls` of a card or of the business, as a partner sends it (create, PUT). */
export const ControlsBody = z
  .object({
    allowed_mccs: z.optional(z.array(Mcc).check(z.maxLength(MAX_LIST))),
    blocked_mccs: z.optional(z.array(Mcc).check(z.maxLength(MAX_LIST))),
    allowed_countries: z.optional(z.array(Country).check(z.maxLength(MAX_LIST))),
    blocked_countries: z.optional(z.array(Country).check(z.maxLength(MAX_LIST))),
    max_daily_count: z.optional(z.int().check(z.gte(0), z.lte(MAX_DAILY_COUNT))),
  })
  .check(z.meta({ id: 'ControlsInput', description: 'Spending controls; an empty or missing list does not restrict; `max_daily_count` 0 (or missing) is off.' }));
export type ControlsBody = z.output<typeof ControlsBody>;

/** The body as stored: lists de-duplicated and sorted (so a view and an audit entry are stable). */
export function parseControls(body: ControlsBody | undefined): SpendingControls {
  const list = (values: string[] | undefined) => [...new Set(values ?? [])].sort();
  return {
    allowedMccs: list(body?.allowed_mccs),
    blockedMccs: list(body?.blocked_mccs),
    allowedCountries: list(body?.allowed_countries),
    blockedCountries: list(body?.blocked_countries),
    maxDailyCount: body?.max_daily_count ?? 0,
  };
}

export interface ControlsView {
  allowed_mccs: string[];
  blocked_mccs: string[];
  allowed_countries: string[];
  blocked_countries: string[];
  max_daily_count: number;
}

export function controlsView(controls: SpendingControls): ControlsView {
  return {
    allowed_mccs: controls.allowedMccs,
    blocked_mccs: controls.blockedMccs,
    allowed_countries: controls.allowedCountries,
    blocked_countries: controls.blockedCountries,
    max_daily_count: controls.maxDailyCount,
  };
}

/** What the merchant of an authorization says about itself (empty/null when it sent nothing). */
export interface MerchantFacts {
  mcc: string | null;
  country: string;
}

function admits(allowed: string[], blocked: string[], value: string | null): boolean {
  if (allowed.length > 0 && (value === null || value === '' || !allowed.includes(value))) return false;
  return value === null || value === '' || !blocked.includes(value);
}

/**
 * The first controls reason (category before country, API.md) that any of `levels` (the card's,
 * the business's) refuses the merchant for, or undefined when every level admits it.
 */
export function controlsDecline(levels: readonly SpendingControls[], merchant: MerchantFacts): DeclineReason | undefined {
  if (!levels.every((c) => admits(c.allowedMccs, c.blockedMccs, merchant.mcc))) return 'merchant_category_blocked';
  if (!levels.every((c) => admits(c.allowedCountries, c.blockedCountries, merchant.country))) return 'merchant_country_blocked';
  return undefined;
}

/** The daily count that governs: the smallest of the levels that are on; 0 when none is. */
export function effectiveMaxDailyCount(levels: readonly SpendingControls[]): number {
  const on = levels.map((c) => c.maxDailyCount).filter((count) => count > 0);
  return on.length ? Math.min(...on) : 0;
}

/**
 * What a card transaction looks up before it writes, cached per container where the answer never
 * changes: the card a number belongs to, the business's timezone (its spend windows), and the FX
 * settings it may convert with. Shared by authorizations, increments, force posts and refunds;
 * nothing here opens a secret or calls a partner, so the rows that neither may (force posts,
 * refunds) can use it.
 */
import { isRateTableFresh } from '../domain/fx.ts';
import { logger } from '../logger.ts';
import { requireBusiness, type StoredBusiness } from '../db/businesses-repository.ts';
import { cardNumberHash, findCardIdByNumber } from '../db/cards-repository.ts';
import { fxSettings, OperatorSettingsError, type FxSettings } from './operator-settings.ts';

/**
 * The FX settings when their rate table may be used at `at`, or undefined: the table is older
 * than the stage allows, or the settings could not be read (not configured, missing, malformed).
 * Either way the transaction declines `fx_rate_unavailable` rather than convert at a rate nobody
 * vouches for, and the operator finds out from the log.
 */
export async function usableFx(at: Date): Promise<FxSettings | undefined> {
  let fx: FxSettings;
  try {
    fx = await fxSettings();
  } catch (error) {
    if (!(error instanceof OperatorSettingsError)) throw error;
    logger.error('FX settings unavailable: conversions decline fx_rate_unavailable', { problem: error.message });
    return undefined;
  }
  if (!isRateTableFresh(fx.rates, at, fx.maxAgeMs)) {
    logger.warn('FX rate table too old: conversions decline fx_rate_unavailable', { asOf: fx.rates.asOf.toISOString(), maxAgeSeconds: fx.maxAgeMs / 1000 });
    return undefined;
  }
  return fx;
}

/** A business's timezone never changes once created, so it is cached for the container's life. */
const timezones = new Map<string, string>();

/**
 * The business's timezone. When this call reads the business record, `onRead` gets it too, so a
 * caller that needs more of it (the approve path: the decision endpoint) does not read it twice.
 */
export async function timezoneOf(businessId: string, onRead?: (business: StoredBusiness) => Promise<unknown>): Promise<string> {
  let timezone = timezones.get(businessId);
  if (!timezone) {
    const business = await requireBusiness(businessId);
    timezone = business.timezone;
    timezones.set(businessId, timezone);
    await onRead?.(business);
  }
  return timezone;
}

/** A card number always maps to the same card, so the index lookup is cached (by keyed hash only). */
const cardIdsByNumber = new Map<string, string>();

export async function cardIdForNumber(number: string): Promise<string | undefined> {
  const hash = await cardNumberHash(number);
  let cardId = cardIdsByNumber.get(hash);
  if (!cardId) {
    cardId = (await findCardIdByNumber(number))?.cardId;
    if (cardId) cardIdsByNumber.set(hash, cardId);
  }
  return cardId;
}

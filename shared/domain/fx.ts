/**
 * Currency conversion for authorizations in a merchant currency other than the card's.
 *
 * Rates are a rate table: the value of one unit of each card currency in USD, as exact decimal
 * strings, dated by the time they were fixed (`as_of`). Production's table is the one the operator
 * sets (shared/services/operator-settings.ts); the sandbox uses `SANDBOX_USD_VALUE`.
 *
 * Conversion is integer arithmetic on minor units and never favours the cardholder (API.md): an
 * authorization is a debit, so the converted amount rounds UP to the card currency's minor unit
 * (a positive purchase costs at least one minor unit; rounding to nearest let a small foreign
 * purchase convert to 0 and be approved with no hold at all), and so does the FX fee, which is
 * basis points of that converted amount (so a partner can check it from `local_amount`).
 */
import * as z from '../zod.ts';
import { CARD_CURRENCIES, exponentOf, type CardCurrency, type Currency } from './money.ts';

/** Value of one unit of each currency in USD, as exact decimals (sandbox defaults). */
export const SANDBOX_USD_VALUE: Record<CardCurrency, string> = {
  USD: '1',
  HKD: '0.128',
  EUR: '1.08',
  GBP: '1.27',
  SGD: '0.74',
  JPY: '0.0067',
};

/** Default FX fee in basis points (1% = 100 bps). */
export const SANDBOX_FX_FEE_BPS = 100n;

interface Rational {
  numerator: bigint;
  denominator: bigint;
}

function decimalToRational(text: string): Rational {
  const [whole = '0', fraction = ''] = text.split('.');
  const denominator = 10n ** BigInt(fraction.length);
  return { numerator: BigInt(whole) * denominator + BigInt(fraction || '0'), denominator };
}

export interface Conversion {
  /** In the card currency's minor units. */
  localAmount: bigint;
  fee: bigint;
}

export class UnsupportedCurrencyError extends Error {}

export function isSupportedTransactionCurrency(code: string): code is CardCurrency {
  return (CARD_CURRENCIES as readonly string[]).includes(code);
}

/**
 * Converts `amount` minor units of `from` into minor units of `to`, plus the FX fee, both rounded
 * up to `to`'s minor unit. Same currency: no conversion and no fee.
 */
export function convert(amount: bigint, from: Currency, to: CardCurrency, usdValue: Record<string, string>, feeBps: bigint): Conversion {
  if (from === to) return { localAmount: amount, fee: 0n };
  const fromValue = usdValue[from];
  const toValue = usdValue[to];
  if (!fromValue || !toValue) throw new UnsupportedCurrencyError(`no rate for ${from}->${to}`);
  const a = decimalToRational(fromValue);
  const b = decimalToRational(toValue);
  // amount(from minor) * 10^-e_from * (a) / (b) * 10^e_to  -> to minor
  const numerator = amount * a.numerator * b.denominator * 10n ** BigInt(exponentOf(to));
  const denominator = a.denominator * b.numerator * 10n ** BigInt(exponentOf(from));
  const localAmount = divideRoundUp(numerator, denominator);
  const fee = divideRoundUp(localAmount * feeBps, 10_000n);
  return { localAmount, fee };
}

/**
 * Converts a credit (a merchant's refund) of `amount` minor units of `from` into `to`, rounded
 * DOWN to `to`'s minor unit and with no fee: a conversion never favours the cardholder, so a
 * credit never gains the minor unit a debit would be charged.
 */
export function convertCredit(amount: bigint, from: Currency, to: CardCurrency, usdValue: Record<string, string>): bigint {
  if (from === to) return amount;
  const rounded = convert(amount, from, to, usdValue, 0n).localAmount;
  // convert() rounds up; step back one unit unless the conversion was exact.
  const fromValue = decimalToRational(usdValue[from]!);
  const toValue = decimalToRational(usdValue[to]!);
  const numerator = amount * fromValue.numerator * toValue.denominator * 10n ** BigInt(exponentOf(to));
  const denominator = fromValue.denominator * toValue.numerator * 10n ** BigInt(exponentOf(from));
  return numerator % denominator === 0n ? rounded : numerator / denominator;
}

/** Ceiling division of non-negative integers. */
function divideRoundUp(numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator;
}

// ---------------------------------------------------------------------------------------------
// Rate tables

/** A dated table of rates: `usdValues[c]` is the value of one unit of `c` in USD. */
export interface RateTable {
  asOf: Date;
  usdValues: Record<CardCurrency, string>;
}

/** The sandbox's own table, dated `at`: the sandbox never has a stale rate. */
export function sandboxRateTable(at: Date): RateTable {
  return { asOf: at, usdValues: SANDBOX_USD_VALUE };
}

export class RateTableError extends Error {}

/**
 * How far in the future an `as_of` may be (clock skew between the operator's tooling and
 * Lambda). Further is a typo that would keep a table "fresh" for as long as it is wrong by.
 */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;

const PositiveRate = z
  .string({ error: 'must be a decimal string such as "0.128"' })
  .check(
    z.regex(/^(0|[1-9]\d{0,11})(\.\d{1,18})?$/, 'must be a decimal string such as "0.128" (at most 12 digits before the point, 18 after)'),
    z.refine((text) => /[1-9]/.test(text), 'must be greater than zero'),
  );

const RateTableDocument = z.strictObject({
  as_of: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time such as "2025-03-04T00:00:00Z"' }),
  usd_values: z.record(z.string(), PositiveRate, { error: 'must be an object of decimal strings by currency' }),
});

/**
 * Reads the JSON rate table an operator sets:
 * `{ "as_of": RFC 3339, "usd_values": { "HKD": "0.128", "EUR": "1.08", ... } }`. Every card
 * currency but USD must have a rate; USD, if given, must be 1; an unknown currency (a typo) or an
 * `as_of` in the future is refused. Throws `RateTableError` naming every problem at once.
 */
export function parseRateTable(text: string, now: Date): RateTable {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RateTableError('is not JSON');
  }
  const parsed = RateTableDocument.safeParse(json);
  if (!parsed.success) {
    throw new RateTableError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(table)'}: ${issue.message}`).join('; '));
  }
  const { as_of: asOfText, usd_values: values } = parsed.data;
  const problems: string[] = [];
  for (const currency of Object.keys(values)) {
    if (!isSupportedTransactionCurrency(currency)) problems.push(`usd_values.${currency}: not a card currency (${CARD_CURRENCIES.join(', ')})`);
  }
  for (const currency of CARD_CURRENCIES) {
    if (currency !== 'USD' && values[currency] === undefined) problems.push(`usd_values.${currency}: missing`);
  }
  const usd = decimalToRational(values.USD ?? '1');
  if (usd.numerator !== usd.denominator) problems.push(`usd_values.USD: must be 1 (the unit), not "${values.USD}"`);
  const asOf = new Date(asOfText);
  if (asOf.getTime() - now.getTime() > MAX_FUTURE_SKEW_MS) problems.push(`as_of: ${asOfText} is in the future`);
  if (problems.length > 0) throw new RateTableError(problems.join('; '));
  const usdValues = Object.fromEntries(CARD_CURRENCIES.map((currency) => [currency, values[currency] ?? '1'])) as Record<CardCurrency, string>;
  return { asOf, usdValues };
}

/** Whether the table's rates may still be used at `at`: no older than `maxAgeMs`. */
export function isRateTableFresh(table: RateTable, at: Date, maxAgeMs: number): boolean {
  return at.getTime() - table.asOf.getTime() <= maxAgeMs;
}

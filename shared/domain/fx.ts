/**
 * Currency conversion for authorizations in a merchant currency other than the card's.
 *
 * Rates are a configured table of the value of one unit of each card currency in USD, as exact
 * decimal strings (per stage; the sandbox has defaults).
 *
 * Conversion is integer arithmetic on minor units and never favours the cardholder (API.md): an
 * authorization is a debit, so the converted amount rounds UP to the card currency's minor unit
 * (a positive purchase costs at least one minor unit; rounding to nearest let a small foreign
 * purchase convert to 0 and be approved with no hold at all), and so does the FX fee, which is
 * basis points of that converted amount (so a partner can check it from `local_amount`).
 */
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
export function convert(
  amount: bigint,
  from: Currency,
  to: CardCurrency,
  usdValue: Record<string, string> = SANDBOX_USD_VALUE,
  feeBps: bigint = SANDBOX_FX_FEE_BPS,
): Conversion {
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

/** Ceiling division of non-negative integers. */
function divideRoundUp(numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator;
}

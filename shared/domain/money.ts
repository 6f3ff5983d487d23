/**
 * Money is exact: decimal strings on the wire, `bigint` minor units inside. No JavaScript `number`
 * ever holds an amount (a double keeps ~15 digits; ETH has 18 decimals).
 */

/** ISO 4217 exponents for fiat; asset precision for crypto balances. */
export const CURRENCY_EXPONENTS = {
  USD: 2,
  HKD: 2,
  EUR: 2,
  GBP: 2,
  SGD: 2,
  JPY: 0,
  BTC: 8,
  ETH: 18,
} as const;

export type Currency = keyof typeof CURRENCY_EXPONENTS;

/** Currencies a card can be issued in and a B2B balance can hold (crypto exists only from deposits). */
export const CARD_CURRENCIES = ['USD', 'HKD', 'EUR', 'GBP', 'SGD', 'JPY'] as const;
export type CardCurrency = (typeof CARD_CURRENCIES)[number];

export function isCurrency(code: string): code is Currency {
  return Object.hasOwn(CURRENCY_EXPONENTS, code);
}

export function exponentOf(currency: Currency): number {
  return CURRENCY_EXPONENTS[currency];
}

const DECIMAL = /^-?(0|[1-9]\d*)(\.\d+)?$/;

export class MoneyFormatError extends Error {}

/**
 * Parses a decimal string into minor units of `exponent` decimals.
 * Rejects exponents, signs other than a leading '-', and more decimals than the currency has.
 */
export function parseAmount(text: string, exponent: number): bigint {
  if (!DECIMAL.test(text)) throw new MoneyFormatError('must be a decimal string such as "12.50"');
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  if (fraction.length > exponent) {
    throw new MoneyFormatError(`must have at most ${exponent} decimal places`);
  }
  const minor = BigInt(whole) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, '0') || '0');
  return negative ? -minor : minor;
}

/** Formats minor units as the shortest exact decimal string ("101", "12.5", "-0.01"). */
export function formatAmount(minor: bigint, exponent: number): string {
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  const scale = 10n ** BigInt(exponent);
  const whole = abs / scale;
  let fraction = exponent > 0 ? (abs % scale).toString().padStart(exponent, '0') : '';
  fraction = fraction.replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

export function parseMoney(text: string, currency: Currency): bigint {
  return parseAmount(text, exponentOf(currency));
}

export function formatMoney(minor: bigint, currency: Currency): string {
  return formatAmount(minor, exponentOf(currency));
}

/** 100% in basis points. */
export const MAX_BASIS_POINTS = 10_000n;

/**
 * Reads a fee in basis points as an operator writes it: a whole number from 0 to 10000
 * (1% = "100"). Anything else, a fraction or a percentage included, is refused rather than guessed.
 */
export function parseBasisPoints(text: string): bigint {
  const trimmed = text.trim();
  if (!/^(0|[1-9]\d{0,4})$/.test(trimmed) || BigInt(trimmed) > MAX_BASIS_POINTS) {
    throw new MoneyFormatError(`must be a whole number of basis points from 0 to ${MAX_BASIS_POINTS} (1% = 100), not ${JSON.stringify(text)}`);
  }
  return BigInt(trimmed);
}

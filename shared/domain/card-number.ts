/**
 * Card numbers and the other card secrets the platform generates: the 16-digit JCB number under
 * the platform's BIN, its Luhn check digit, the expiry and the CVV. Pure: the random source is
 * injected, so property tests can drive it; production passes `crypto.randomInt` (a CSPRNG).
 *
 * Nothing here guarantees uniqueness: 9 random digits under one BIN is a space of 10^9, in which
 * collisions are expected after a few tens of thousands of cards (birthday bound). Uniqueness is
 * the card repository's job (a conditional write on the keyed-hash index of the number); this
 * module only supplies `allocateUnique`, the bounded retry loop around such a reservation.
 */

/** `maxExclusive` -> a uniformly distributed integer in [0, maxExclusive); `crypto.randomInt` fits. */
export type RandomInt = (maxExclusive: number) => number;

export const CARD_NUMBER_LENGTH = 16;
export const BIN_LENGTH = 6;

/** JCB's IIN range (ISO/IEC 7812): the first four digits are 3528-3589. */
export const JCB_IIN_MIN = 3528;
export const JCB_IIN_MAX = 3589;

/** Years a card is valid, counted in whole months from the month of issue. */
export const CARD_VALIDITY_YEARS = 5;

/** The Luhn (mod 10) check digit of `payload`, the digits that precede it. */
export function luhnCheckDigit(payload: string): string {
  if (!/^\d+$/.test(payload)) throw new Error('Luhn payload must be digits');
  let sum = 0;
  // Walking right to left, the digit next to the (future) check digit is doubled first.
  for (let i = payload.length - 1, double = true; i >= 0; i--, double = !double) {
    let digit = payload.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

/** Whether `number` (digits only) ends in its correct Luhn check digit. */
export function isLuhnValid(number: string): boolean {
  if (!/^\d{2,}$/.test(number)) return false;
  return luhnCheckDigit(number.slice(0, -1)) === number.slice(-1);
}

/** Whether `bin` is six digits inside JCB's IIN range. */
export function isJcbBin(bin: string): boolean {
  if (!/^\d{6}$/.test(bin)) return false;
  const iin = Number(bin.slice(0, 4));
  return iin >= JCB_IIN_MIN && iin <= JCB_IIN_MAX;
}

/** Whether `number` looks like a card number this platform could have issued (16 digits, JCB, Luhn). */
export function isJcbCardNumber(number: string): boolean {
  return /^\d{16}$/.test(number) && isJcbBin(number.slice(0, BIN_LENGTH)) && isLuhnValid(number);
}

/**
 * A new 16-digit card number: the BIN, nine digits from `random`, and the Luhn check digit.
 * Throws if the BIN is not a JCB BIN or the random source misbehaves (never silently biases).
 */
export function generateCardNumber(bin: string, random: RandomInt): string {
  if (!isJcbBin(bin)) throw new Error('The card BIN must be six digits in the JCB range 3528-3589');
  let payload = bin;
  for (let i = BIN_LENGTH; i < CARD_NUMBER_LENGTH - 1; i++) payload += String(randomDigit(random));
  return payload + luhnCheckDigit(payload);
}

/** A 3-digit card verification value, leading zeros kept ("007"). */
export function generateCvv(random: RandomInt): string {
  let cvv = '';
  for (let i = 0; i < 3; i++) cvv += String(randomDigit(random));
  return cvv;
}

export interface CardExpiry {
  /** "01".."12" */
  month: string;
  /** "2030" */
  year: string;
}

/**
 * The expiry of a card issued at `issuedAt`: the same calendar month (UTC), `CARD_VALIDITY_YEARS`
 * later. A card is valid through the last day of its expiry month, as on the card itself.
 */
export function expiryFor(issuedAt: Date): CardExpiry {
  return {
    month: String(issuedAt.getUTCMonth() + 1).padStart(2, '0'),
    year: String(issuedAt.getUTCFullYear() + CARD_VALIDITY_YEARS),
  };
}

/** First six and last four digits, the most PCI DSS allows to be shown: "356772******8213". */
export function maskCardNumber(number: string): string {
  if (!/^\d{13,19}$/.test(number)) throw new Error('Not a card number');
  return `${number.slice(0, BIN_LENGTH)}${'*'.repeat(number.length - 10)}${number.slice(-4)}`;
}

export function lastFour(number: string): string {
  return number.slice(-4);
}

/** Thrown when every attempt of `allocateUnique` met a value that was already taken. */
export class CardNumberSpaceExhaustedError extends Error {
  constructor(attempts: number) {
    super(`No unused card number found in ${attempts} attempts; the BIN may be nearly full`);
    this.name = 'CardNumberSpaceExhaustedError';
  }
}

export const MAX_ALLOCATION_ATTEMPTS = 5;

/**
 * Generates values until `reserve` accepts one, at most `maxAttempts` times. `reserve` is the
 * atomic claim (in production: the card transaction with its conditional index write) and
 * returns `'taken'` when the value already exists, so a collision costs a retry, never a
 * duplicate. Returns what `reserve` returned for the accepted value.
 */
export async function allocateUnique<T>(
  generate: () => string,
  reserve: (value: string) => Promise<T | 'taken'>,
  maxAttempts: number = MAX_ALLOCATION_ATTEMPTS,
): Promise<T> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const outcome = await reserve(generate());
    if (outcome !== 'taken') return outcome;
  }
  throw new CardNumberSpaceExhaustedError(maxAttempts);
}

function randomDigit(random: RandomInt): number {
  const digit = random(10);
  if (!Number.isInteger(digit) || digit < 0 || digit > 9) throw new Error('Random source returned a value outside 0-9');
  return digit;
}

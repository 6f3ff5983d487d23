/**
 * Currency conversion never favours the cardholder (API.md): the converted amount and the FX fee
 * round UP to the card currency's minor unit, so a positive purchase costs at least one minor unit.
 * The properties run with a fresh seed each time; FC_SEED=<seed> replays a reported failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convert } from '../../../shared/domain/fx.ts';
import { CARD_CURRENCIES, exponentOf, type CardCurrency } from '../../../shared/domain/money.ts';
import { propertySeed } from '../../support/property-seed.ts';

/** The exact converted value as a fraction of minor units of `to`, computed independently of convert(). */
function exactMinorUnits(amount: bigint, from: CardCurrency, to: CardCurrency, usdValues: Record<string, string>): { numerator: bigint; denominator: bigint } {
  const scaled = (text: string) => {
    const [whole, fraction = ''] = text.split('.');
    return { value: BigInt(`${whole}${fraction}`), scale: 10n ** BigInt(fraction.length) };
  };
  const a = scaled(usdValues[from]!);
  const b = scaled(usdValues[to]!);
  // amount / 10^e_from (major units of from) * a/b (major units of to per unit of from) * 10^e_to
  return {
    numerator: amount * a.value * b.scale * 10n ** BigInt(exponentOf(to)),
    denominator: 10n ** BigInt(exponentOf(from)) * a.scale * b.value,
  };
}

/** A positive decimal rate such as "0.0067" or "1.27", from digits and a scale. */
const rate = fc
  .tuple(fc.bigInt({ min: 1n, max: 10n ** 9n }), fc.integer({ min: 0, max: 8 }))
  .map(([digits, scale]) => {
    const text = digits.toString().padStart(scale + 1, '0');
    return scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`;
  });
const currency = fc.constantFrom(...CARD_CURRENCIES);
const rateTable = fc.record(Object.fromEntries(CARD_CURRENCIES.map((code) => [code, rate])) as Record<CardCurrency, typeof rate>);

describe('convert', () => {
  it('is the identity with no fee in the same currency', () => {
    expect(convert(12_345n, 'USD', 'USD')).toEqual({ localAmount: 12_345n, fee: 0n });
  });

  it('converts minor units across exponents exactly', () => {
    // 1000 JPY * 0.0067 USD/JPY = 6.70 USD
    expect(convert(1000n, 'JPY', 'USD', { JPY: '0.0067', USD: '1' }, 0n)).toEqual({ localAmount: 670n, fee: 0n });
    // 10.00 USD at 0.128 USD/HKD = 78.125 HKD -> 78.13 (up)
    expect(convert(1000n, 'USD', 'HKD', { USD: '1', HKD: '0.128' }, 0n).localAmount).toBe(7813n);
  });

  it('rounds the converted amount up, never to the nearest unit', () => {
    // 1.01 USD = 7.890625 HKD: 7.89 to the nearest cent, 7.90 when the cardholder must not gain.
    expect(convert(101n, 'USD', 'HKD', { USD: '1', HKD: '0.128' }, 0n).localAmount).toBe(790n);
    // 1 HKD = 19.104... JPY: 19 to the nearest yen, 20 up.
    expect(convert(100n, 'HKD', 'JPY', { HKD: '0.128', JPY: '0.0067' }, 0n).localAmount).toBe(20n);
  });

  it('makes a purchase too small to be worth a minor unit cost one (it used to convert to 0 and hold nothing)', () => {
    // 0.01 HKD = 0.19 JPY, which rounded to nearest was 0 JPY: approved with no hold and no fee.
    expect(convert(1n, 'HKD', 'JPY')).toEqual({ localAmount: 1n, fee: 1n });
    expect(convert(1n, 'JPY', 'GBP', { JPY: '0.0067', GBP: '1.27' }, 0n)).toEqual({ localAmount: 1n, fee: 0n });
  });

  it('charges the FX fee in basis points of the converted amount, rounded up', () => {
    expect(convert(1000n, 'USD', 'HKD', { USD: '1', HKD: '0.128' }, 100n)).toEqual({ localAmount: 7813n, fee: 79n });
  });

  it('never converts below the exact value, nor a minor unit or more above it', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), currency, currency, rateTable, (amount, from, to, usdValues) => {
        fc.pre(from !== to);
        const { localAmount } = convert(amount, from, to, usdValues, 0n);
        const exact = exactMinorUnits(amount, from, to, usdValues);
        // exact <= localAmount < exact + 1, in whole fractions
        expect(localAmount * exact.denominator >= exact.numerator).toBe(true);
        expect((localAmount - 1n) * exact.denominator < exact.numerator).toBe(true);
      }),
      { seed: propertySeed },
    );
  });

  it('never converts a positive amount to nothing', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 15n }), currency, currency, rateTable, (amount, from, to, usdValues) => {
        expect(convert(amount, from, to, usdValues, 0n).localAmount >= 1n).toBe(true);
      }),
      { seed: propertySeed },
    );
  });

  it('charges at least the exact fee on the converted amount, and less than a minor unit more', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), currency, currency, fc.bigInt({ min: 0n, max: 10_000n }), (amount, from, to, feeBps) => {
        fc.pre(from !== to);
        const { localAmount, fee } = convert(amount, from, to, undefined, feeBps);
        // exact fee = localAmount * feeBps / 10000
        expect(fee * 10_000n >= localAmount * feeBps).toBe(true);
        expect((fee - 1n) * 10_000n < localAmount * feeBps).toBe(true);
      }),
      { seed: propertySeed },
    );
  });
});

/**
 * Currency conversion never favours the cardholder (API.md): the converted amount and the FX fee
 * round UP to the card currency's minor unit, so a positive purchase costs at least one minor unit.
 * The properties run with a fresh seed each time; FC_SEED=<seed> replays a reported failure.
 * Rate tables: what an operator may set, and how old a table may be used.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convert, isRateTableFresh, parseRateTable, RateTableError, SANDBOX_FX_FEE_BPS, SANDBOX_USD_VALUE, sandboxRateTable } from '../../../shared/domain/fx.ts';
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
    expect(convert(12_345n, 'USD', 'USD', SANDBOX_USD_VALUE, SANDBOX_FX_FEE_BPS)).toEqual({ localAmount: 12_345n, fee: 0n });
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
    expect(convert(1n, 'HKD', 'JPY', SANDBOX_USD_VALUE, SANDBOX_FX_FEE_BPS)).toEqual({ localAmount: 1n, fee: 1n });
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
        const { localAmount, fee } = convert(amount, from, to, SANDBOX_USD_VALUE, feeBps);
        // exact fee = localAmount * feeBps / 10000
        expect(fee * 10_000n >= localAmount * feeBps).toBe(true);
        expect((fee - 1n) * 10_000n < localAmount * feeBps).toBe(true);
      }),
      { seed: propertySeed },
    );
  });
});

describe('parseRateTable', () => {
  const now = new Date('2025-03-04T12:00:00Z');
  const values = { HKD: '0.128', EUR: '1.08', GBP: '1.27', SGD: '0.74', JPY: '0.0067' };
  const table = (document: unknown) => parseRateTable(JSON.stringify(document), now);

  it('reads the operator\'s table with its as_of, USD being 1 whether given or not', () => {
    expect(table({ as_of: '2025-03-04T00:00:00Z', usd_values: values })).toEqual({
      asOf: new Date('2025-03-04T00:00:00Z'),
      usdValues: { USD: '1', ...values },
    });
    expect(table({ as_of: '2025-03-04T08:00:00+08:00', usd_values: { ...values, USD: '1.000' } }).asOf).toEqual(new Date('2025-03-04T00:00:00Z'));
  });

  it.each<[string, unknown, RegExp]>([
    ['not JSON', '{"as_of":', /is not JSON/],
    ['no as_of', { usd_values: values }, /as_of: must be an RFC 3339 time/],
    ['an as_of that is not a time', { as_of: 'yesterday', usd_values: values }, /as_of: must be an RFC 3339 time/],
    ['an as_of in the future', { as_of: '2025-03-05T00:00:00Z', usd_values: values }, /as_of: 2025-03-05T00:00:00Z is in the future/],
    ['a missing currency', { as_of: '2025-03-04T00:00:00Z', usd_values: { ...values, JPY: undefined } }, /usd_values.JPY: missing/],
    ['an unknown currency (a typo)', { as_of: '2025-03-04T00:00:00Z', usd_values: { ...values, HDK: '0.128' } }, /usd_values.HDK: not a card currency/],
    ['a zero rate', { as_of: '2025-03-04T00:00:00Z', usd_values: { ...values, EUR: '0.00' } }, /usd_values.EUR: must be greater than zero/],
    ['a rate as a JSON number', { as_of: '2025-03-04T00:00:00Z', usd_values: { ...values, EUR: 1.08 } }, /usd_values.EUR: must be a decimal string/],
    ['a negative rate', { as_of: '2025-03-04T00:00:00Z', usd_values: { ...values, EUR: '-1.08' } }, /usd_values.EUR: must be a decimal string/],
    ['USD other than 1', { as_of: '2025-03-04T00:00:00Z', usd_values: { ...values, USD: '1.01' } }, /usd_values.USD: must be 1/],
    ['an unknown field', { as_of: '2025-03-04T00:00:00Z', usd_values: values, source: 'ecb' }, /source/],
  ])('refuses a table with %s, saying what is wrong', (_, document, message) => {
    const text = typeof document === 'string' ? document : JSON.stringify(document);
    expect(() => parseRateTable(text, now)).toThrow(RateTableError);
    expect(() => parseRateTable(text, now)).toThrow(message);
  });

  it('names every problem of a table at once', () => {
    expect(() => table({ as_of: '2025-03-04T00:00:00Z', usd_values: { HKD: '0.128', XYZ: '1' } })).toThrow(/XYZ: not a card currency.*EUR: missing.*GBP: missing/);
  });
});

describe('isRateTableFresh', () => {
  const asOf = new Date('2025-03-04T00:00:00Z');
  const day = 86_400_000;

  it('uses a table up to its allowed age and no longer', () => {
    expect(isRateTableFresh({ asOf, usdValues: SANDBOX_USD_VALUE }, new Date(asOf.getTime() + day), day)).toBe(true);
    expect(isRateTableFresh({ asOf, usdValues: SANDBOX_USD_VALUE }, new Date(asOf.getTime() + day + 1), day)).toBe(false);
  });

  it('never finds the sandbox table stale: it is dated when it is read', () => {
    const at = new Date();
    expect(isRateTableFresh(sandboxRateTable(at), at, 60_000)).toBe(true);
  });
});

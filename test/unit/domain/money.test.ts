import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAmount, formatMoney, MoneyFormatError, parseAmount, parseBasisPoints, parseMoney } from '../../../shared/domain/money.ts';

describe('parseAmount', () => {
  it('reads decimal strings into minor units of the currency exponent', () => {
    expect(parseMoney('101', 'USD')).toBe(10100n);
    expect(parseMoney('12.5', 'USD')).toBe(1250n);
    expect(parseMoney('0.01', 'HKD')).toBe(1n);
    expect(parseMoney('-101', 'USD')).toBe(-10100n);
    expect(parseMoney('1500', 'JPY')).toBe(1500n);
    expect(parseMoney('0.000000000000000001', 'ETH')).toBe(1n);
  });

  it('keeps 38-digit amounts exact (no double rounding)', () => {
    expect(parseMoney('12345678901234567890.123456789012345678', 'ETH')).toBe(12345678901234567890123456789012345678n);
  });

  it('rejects more decimals than the currency has', () => {
    expect(() => parseMoney('1.001', 'USD')).toThrow(/at most 2/);
    expect(() => parseMoney('1.5', 'JPY')).toThrow(/at most 0/);
  });

  it.each(['', '1e3', '+1', '01', '1.', '.5', ' 1', 'abc', '1,000', '0x10', 'NaN', 'Infinity'])('rejects %j', (text) => {
    expect(() => parseAmount(text, 2)).toThrow();
  });
});

describe('formatAmount', () => {
  it('writes the shortest exact decimal', () => {
    expect(formatMoney(10100n, 'USD')).toBe('101');
    expect(formatMoney(1250n, 'USD')).toBe('12.5');
    expect(formatMoney(-1n, 'USD')).toBe('-0.01');
    expect(formatMoney(0n, 'USD')).toBe('0');
    expect(formatMoney(1n, 'ETH')).toBe('0.000000000000000001');
  });

  it('round-trips every amount at every exponent', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 18 }), (minor, exponent) => {
        expect(parseAmount(formatAmount(minor, exponent), exponent)).toBe(minor);
      }),
    );
  });
});

describe('parseBasisPoints', () => {
  it('reads a whole number of basis points from 0 to 10000', () => {
    expect(parseBasisPoints('0')).toBe(0n);
    expect(parseBasisPoints('150')).toBe(150n);
    expect(parseBasisPoints(' 10000\n')).toBe(10_000n);
  });

  it.each(['', '1.5', '1%', '-1', '10001', '0150', '1e2', 'abc'])('refuses %j rather than guess', (text) => {
    expect(() => parseBasisPoints(text)).toThrow(MoneyFormatError);
    expect(() => parseBasisPoints(text)).toThrow(/whole number of basis points from 0 to 10000/);
  });
});

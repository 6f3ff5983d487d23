import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convert } from '../../../shared/domain/fx.ts';

describe('convert', () => {
  it('is the identity with no fee in the same currency', () => {
    expect(convert(12_345n, 'USD', 'USD')).toEqual({ localAmount: 12_345n, fee: 0n });
  });

  it('converts minor units across exponents exactly', () => {
    // 1000 JPY * 0.0067 USD/JPY = 6.70 USD
    expect(convert(1000n, 'JPY', 'USD', { JPY: '0.0067', USD: '1' }, 0n)).toEqual({ localAmount: 670n, fee: 0n });
    // 10.00 USD at 0.128 USD/HKD = 78.125 HKD -> 78.13 (half up)
    expect(convert(1000n, 'USD', 'HKD', { USD: '1', HKD: '0.128' }, 0n).localAmount).toBe(7813n);
  });

  it('charges the FX fee in basis points, rounded up', () => {
    expect(convert(1000n, 'USD', 'HKD', { USD: '1', HKD: '0.128' }, 100n)).toEqual({ localAmount: 7813n, fee: 79n });
  });

  it('never produces a negative amount or fee, and the fee never exceeds the rate share plus one minor unit', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.constantFrom('USD', 'HKD', 'EUR', 'GBP', 'SGD', 'JPY'), (amount, from) => {
        const { localAmount, fee } = convert(amount, from as 'USD', 'EUR');
        expect(localAmount >= 0n).toBe(true);
        expect(fee >= 0n && fee <= localAmount / 100n + 1n).toBe(true);
      }),
    );
  });
});

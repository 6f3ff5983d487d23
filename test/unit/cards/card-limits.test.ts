import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CreateCardBody, limitsView, NO_LIMITS, parseCardLimits } from '../../../shared/domain/cards.ts';
import { ValidationError } from '../../../shared/errors.ts';

function fieldsOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).fields ?? [];
  }
  throw new Error('expected a ValidationError');
}

describe('card limits', () => {
  it('are minor units of the card currency; a missing rule is off (0)', () => {
    expect(parseCardLimits({ daily: '100.50' }, 'USD')).toEqual({ ...NO_LIMITS, daily: 10050n });
    expect(parseCardLimits({ transaction: '5000', lifetime: '1000000' }, 'JPY')).toEqual({ ...NO_LIMITS, transaction: 5000n, lifetime: 1_000_000n });
    expect(parseCardLimits({}, 'HKD')).toEqual(NO_LIMITS);
  });

  it('"0" turns a rule off', () => {
    expect(parseCardLimits({ transaction: '0', daily: '0', monthly: '0.00', lifetime: '0' }, 'EUR')).toEqual(NO_LIMITS);
  });

  it('refuse more decimals than the currency has, naming each bad rule', () => {
    expect(fieldsOf(() => parseCardLimits({ daily: '1.5', monthly: '10' }, 'JPY'))).toEqual([
      { path: 'daily', message: 'must have at most 0 decimal places' },
    ]);
    expect(fieldsOf(() => parseCardLimits({ transaction: '0.001', lifetime: '-1' }, 'USD', 'limits.')).map((f) => f.path)).toEqual([
      'limits.transaction',
      'limits.lifetime',
    ]);
  });

  it('refuse negative, non-decimal and absurdly large values', () => {
    for (const bad of ['-1', '-0.01', '1e3', '', ' 1', '1,000', '0x10', 'NaN', '01', '1.', '.5', '1000000000000000000']) {
      expect(fieldsOf(() => parseCardLimits({ daily: bad }, 'JPY'))[0]!.path, bad).toBe('daily');
    }
  });

  it('round-trip through the view for every valid amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 18n - 1n }), fc.constantFrom('USD', 'JPY', 'HKD') as fc.Arbitrary<'USD' | 'JPY' | 'HKD'>, (minor, currency) => {
        const limits = { transaction: minor, daily: 0n, monthly: minor, lifetime: 0n };
        const view = limitsView(limits, currency);
        expect(parseCardLimits(view, currency)).toEqual(limits);
      }),
    );
  });
});

describe('CreateCardBody', () => {
  const paths = (body: unknown) => {
    const result = CreateCardBody.safeParse(body);
    return result.success ? [] : result.error.issues.map((i) => i.path.join('.')).sort();
  };
  const shipping = { line1: '1 Queen St', city: 'Hong Kong', country: 'HK' };
  const userId = '0190a3c4-0000-7000-8000-00000000beef';

  it('defaults to a virtual USD card with no limits', () => {
    expect(CreateCardBody.parse({ mode: 'B2B' })).toEqual({ mode: 'B2B', form: 'virtual', currency: 'USD' });
  });

  it('requires p_user_id for B2C and forbids it for B2B', () => {
    expect(paths({ mode: 'B2C' })).toEqual(['p_user_id']);
    expect(paths({ mode: 'B2B', p_user_id: userId })).toEqual(['p_user_id']);
    expect(paths({ mode: 'B2C', p_user_id: userId })).toEqual([]);
  });

  it('requires a shipping address for a physical card and refuses one for a virtual card', () => {
    expect(paths({ mode: 'B2B', form: 'physical' })).toEqual(['shipping']);
    expect(paths({ mode: 'B2B', form: 'virtual', shipping })).toEqual(['shipping']);
    expect(paths({ mode: 'B2B', form: 'physical', shipping })).toEqual([]);
    expect(paths({ mode: 'B2B', form: 'physical', shipping: { line1: '', city: 'X', country: 'ZZ' } })).toEqual(['shipping.country', 'shipping.line1']);
  });

  it('checks limits against the requested currency, with paths under limits', () => {
    expect(paths({ mode: 'B2B', currency: 'JPY', limits: { daily: '10.5', monthly: 100 } })).toEqual(['limits.daily', 'limits.monthly']);
    expect(paths({ mode: 'B2B', currency: 'USD', limits: { daily: '10.5' } })).toEqual([]);
  });

  it('refuses a body that is not an object, with a 400 rather than a crash', () => {
    for (const body of [null, 'card', 42, [], [{ mode: 'B2B' }]]) expect(CreateCardBody.safeParse(body).success).toBe(false);
  });

  it('refuses unknown modes, forms and currencies, and long nicknames', () => {
    expect(paths({ mode: 'B2X', form: 'plastic', currency: 'BTC', nickname: 'x'.repeat(65) })).toEqual(['currency', 'form', 'mode', 'nickname']);
  });
});

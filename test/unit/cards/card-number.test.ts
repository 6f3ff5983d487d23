import { randomInt } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allocateUnique,
  CardNumberSpaceExhaustedError,
  expiryFor,
  generateCardNumber,
  generateCvv,
  isJcbBin,
  isJcbCardNumber,
  isLuhnValid,
  luhnCheckDigit,
  maskCardNumber,
  type RandomInt,
} from '../../../shared/domain/card-number.ts';

/** A random source that plays back `digits` (then zeros), so fast-check drives every generated digit. */
function scripted(digits: number[]): RandomInt {
  let next = 0;
  return (max) => {
    const value = digits[next++] ?? 0;
    return value % max;
  };
}

const jcbBin = fc
  .tuple(fc.integer({ min: 3528, max: 3589 }), fc.integer({ min: 0, max: 99 }))
  .map(([iin, rest]) => `${iin}${String(rest).padStart(2, '0')}`);
const nineDigits = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 });

describe('luhnCheckDigit', () => {
  it('matches published test numbers', () => {
    // JCB test numbers from processor documentation, and the classic Luhn example.
    expect(isLuhnValid('3530111333300000')).toBe(true);
    expect(isLuhnValid('3566002020360505')).toBe(true);
    expect(isLuhnValid('79927398713')).toBe(true);
    expect(luhnCheckDigit('7992739871')).toBe('3');
  });

  it('catches every single-digit error', () => {
    fc.assert(
      fc.property(jcbBin, nineDigits, fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 9 }), (bin, digits, position, delta) => {
        const number = generateCardNumber(bin, scripted(digits));
        const changed = (Number(number[position]) + delta) % 10;
        const typo = number.slice(0, position) + String(changed) + number.slice(position + 1);
        expect(isLuhnValid(typo)).toBe(false);
      }),
    );
  });

  it('catches every swap of two different adjacent digits, except 09 <-> 90 (a known Luhn blind spot)', () => {
    fc.assert(
      fc.property(jcbBin, nineDigits, fc.integer({ min: 0, max: 14 }), (bin, digits, position) => {
        const number = generateCardNumber(bin, scripted(digits));
        const [a, b] = [number[position]!, number[position + 1]!];
        fc.pre(a !== b && !((a === '0' && b === '9') || (a === '9' && b === '0')));
        const swapped = number.slice(0, position) + b + a + number.slice(position + 2);
        expect(isLuhnValid(swapped)).toBe(false);
      }),
    );
  });
});

describe('generateCardNumber', () => {
  it('makes a 16-digit, Luhn-valid number that starts with the BIN, inside the JCB IIN range 3528-3589', () => {
    fc.assert(
      fc.property(jcbBin, nineDigits, (bin, digits) => {
        const number = generateCardNumber(bin, scripted(digits));
        expect(number).toMatch(/^\d{16}$/);
        expect(number.startsWith(bin)).toBe(true);
        const iin = Number(number.slice(0, 4));
        expect(iin).toBeGreaterThanOrEqual(3528);
        expect(iin).toBeLessThanOrEqual(3589);
        expect(isLuhnValid(number)).toBe(true);
        expect(isJcbCardNumber(number)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('takes its nine middle digits from the random source, in order', () => {
    fc.assert(
      fc.property(jcbBin, nineDigits, (bin, digits) => {
        expect(generateCardNumber(bin, scripted(digits)).slice(6, 15)).toBe(digits.join(''));
      }),
    );
  });

  it('refuses a BIN outside the JCB range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999_999 }).filter((n) => n < 352_800 || n > 358_999),
        (n) => {
          const bin = String(n).padStart(6, '0');
          expect(isJcbBin(bin)).toBe(false);
          expect(() => generateCardNumber(bin, randomInt)).toThrow(/JCB/);
        },
      ),
    );
    expect(() => generateCardNumber('35677', randomInt)).toThrow();
    expect(() => generateCardNumber('3567720', randomInt)).toThrow();
  });

  it('refuses a random source that returns anything but a digit, rather than biasing the number', () => {
    expect(() => generateCardNumber('356772', () => 10)).toThrow(/outside 0-9/);
    expect(() => generateCardNumber('356772', () => -1)).toThrow();
    expect(() => generateCardNumber('356772', () => 2.5)).toThrow();
  });

  it('uses every middle digit value with the CSPRNG (no stuck or missing digit)', () => {
    const seen = Array.from({ length: 9 }, () => new Set<string>());
    for (let i = 0; i < 500; i++) {
      const number = generateCardNumber('356772', randomInt);
      for (let p = 0; p < 9; p++) seen[p]!.add(number[6 + p]!);
    }
    for (const digits of seen) expect(digits.size).toBe(10);
  });
});

describe('allocateUnique (the retry around the conditional write of the number index)', () => {
  /** An in-memory stand-in for `attribute_not_exists(PK)` on the number index. */
  function numberIndex() {
    const taken = new Set<string>();
    let collisions = 0;
    return {
      taken,
      get collisions() {
        return collisions;
      },
      reserve: async (number: string) => {
        if (taken.has(number)) {
          collisions++;
          return 'taken' as const;
        }
        taken.add(number);
        return number;
      },
    };
  }

  it('issues tens of thousands of distinct, valid numbers with the CSPRNG', async () => {
    const index = numberIndex();
    const issued: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      issued.push(await allocateUnique(() => generateCardNumber('356772', randomInt), index.reserve));
    }
    expect(new Set(issued).size).toBe(50_000);
    expect(issued.every(isJcbCardNumber)).toBe(true);
  });

  it('never hands out a number twice, even from a source that keeps colliding', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 20, maxLength: 200 }), async (stream) => {
        // Only 4 possible numbers: collisions are constant, duplicates must still never happen.
        const index = numberIndex();
        let next = 0;
        const generate = () => generateCardNumber('356772', scripted([...Array(8).fill(0), stream[next++ % stream.length]!]));
        const issued: string[] = [];
        for (let i = 0; i < 10; i++) {
          try {
            issued.push(await allocateUnique(generate, index.reserve));
          } catch (error) {
            expect(error).toBeInstanceOf(CardNumberSpaceExhaustedError);
          }
        }
        expect(new Set(issued).size).toBe(issued.length);
        expect(issued.length).toBeLessThanOrEqual(4);
      }),
    );
  });

  it('retries a collision with a new number and gives up after the attempt limit', async () => {
    const reserve = async (n: string) => (n === 'fresh' ? 'ok' : ('taken' as const));
    const values = ['dup', 'dup', 'fresh'];
    expect(await allocateUnique(() => values.shift()!, reserve)).toBe('ok');
    let calls = 0;
    await expect(
      allocateUnique(
        () => {
          calls++;
          return 'dup';
        },
        reserve,
        5,
      ),
    ).rejects.toBeInstanceOf(CardNumberSpaceExhaustedError);
    expect(calls).toBe(5);
  });
});

describe('card secrets', () => {
  it('CVVs are three digits, leading zeros kept', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 3, maxLength: 3 }), (digits) => {
        expect(generateCvv(scripted(digits))).toBe(digits.join(''));
      }),
    );
    expect(generateCvv(scripted([0, 0, 7]))).toBe('007');
    for (let i = 0; i < 200; i++) expect(generateCvv(randomInt)).toMatch(/^\d{3}$/);
  });

  it('expiry is the month of issue, five years later, as MM and YYYY', () => {
    expect(expiryFor(new Date('2025-03-04T03:32:11.051Z'))).toEqual({ month: '03', year: '2030' });
    expect(expiryFor(new Date('2025-12-31T23:59:59.999Z'))).toEqual({ month: '12', year: '2030' });
    expect(expiryFor(new Date('2028-02-29T00:00:00.000Z'))).toEqual({ month: '02', year: '2033' });
  });

  it('the masked number shows the first six and last four digits only', () => {
    expect(maskCardNumber('3567721234568213')).toBe('356772******8213');
    fc.assert(
      fc.property(jcbBin, nineDigits, (bin, digits) => {
        const number = generateCardNumber(bin, scripted(digits));
        const masked = maskCardNumber(number);
        expect(masked).toBe(`${number.slice(0, 6)}******${number.slice(12)}`);
      }),
    );
  });
});

/**
 * The end-of-run sweep for card numbers at rest (test/support/table-exfiltration.ts) finds a card
 * number wherever it is written, and does not cry wolf on the long digit runs the platform stores.
 */
import { describe, expect, it } from 'vitest';
import { cardNumberShapedRuns, withoutRandomTokens } from '../../support/table-exfiltration.ts';

const PAN = '3567720000000010'; // Luhn-valid, the shape of a JCB card number

describe('cardNumberShapedRuns', () => {
  it('finds a card number alone, in JSON, in text, and after letters', () => {
    for (const stored of [PAN, `{"card_number":"${PAN}"}`, `pan ${PAN} seen`, `PAN:${PAN}`, `card${PAN}`]) {
      expect(cardNumberShapedRuns([stored]), stored).toEqual([PAN]);
    }
  });

  it('skips Luhn-invalid runs, parts of longer runs and decimal fractions', () => {
    expect(cardNumberShapedRuns(['3567720000000011', `9${PAN}1234`, `0.${PAN}`])).toEqual([]);
  });

  it('skips a Luhn-valid run inside a hex transaction hash or digest', () => {
    const txHash = `ab${PAN}cd${'e'.repeat(44)}`;
    expect(txHash).toHaveLength(64);
    expect(cardNumberShapedRuns([txHash, `0x${txHash}`, `{"tx_hash":"${txHash}"}`])).toEqual([]);
  });
});

describe('withoutRandomTokens', () => {
  it('masks ids, times and long base64/hex runs, and leaves a secret stored in the clear findable', () => {
    const text = JSON.stringify({
      id: '01a2354e-97b7-71be-9f36-a0a01071d3d9',
      at: '2026-12-02T05:51:12.919924Z',
      sealed: 'AYADeHd2ZaVFaTTsangCt5Aeu/rYlulacbsjb/////AAAAAQAAAAAAAAAAAAAAAQAAAFI9sSSKXCB7g0vXno',
      lastName: 'Tsang',
      middle: '123456',
    });
    const masked = withoutRandomTokens(text);
    expect(masked).not.toMatch(/a0a01071d3d9|919924|TTsangCt5/);
    expect(masked).toContain('"lastName":"Tsang"');
    expect(masked).toContain('"middle":"123456"');
  });
});

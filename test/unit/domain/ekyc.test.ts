import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COUNTRY_CODES,
  dateOfBirthProblem,
  idNumberLast4,
  isCalendarDate,
  isCountryCode,
  isE164,
  maskEkyc,
  normalizedIdentity,
  normalizeEkycText,
  type Ekyc,
} from '../../../shared/domain/ekyc.ts';

const ekyc: Ekyc = {
  first_name: 'Tai Man',
  last_name: 'Chan',
  date_of_birth: '1990-05-17',
  nationality: 'HK',
  id_type: 'national_id',
  id_number: 'A123456(7)',
  email: 'taiman.chan@example.com',
  phone: '+85291234567',
  address: { line1: '1 Queen\'s Road Central', city: 'Hong Kong', country: 'HK' },
};

describe('normalizeEkycText', () => {
  it('lower-cases, trims and collapses internal whitespace to one space', () => {
    expect(normalizeEkycText('  Tai \t\n  MAN  ')).toBe('tai man');
  });

  it('folds full-width and compatibility characters with NFKC', () => {
    expect(normalizeEkycText('ＪＯＨＮ　Ｓｍｉｔｈ')).toBe('john smith');
    expect(normalizeEkycText('ﬁona')).toBe('fiona'); // the "fi" ligature
  });

  it('treats composed and decomposed accents as the same name', () => {
    expect(normalizeEkycText('Jose\u0301')).toBe(normalizeEkycText('José'));
  });

  it('keeps letters of other scripts', () => {
    expect(normalizeEkycText(' 陳  大文 ')).toBe('陳 大文');
  });

  it('is idempotent', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (text) => normalizeEkycText(normalizeEkycText(text)) === normalizeEkycText(text)));
  });

  it('never leaves leading, trailing or doubled whitespace', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const normalized = normalizeEkycText(text);
        return !/^\s|\s$|\s\s/u.test(normalized);
      }),
    );
  });

  it('normalizes all three identity fields of a transfer party', () => {
    expect(normalizedIdentity({ first_name: ' TAI  man', last_name: 'CHAN ', id_number: ' a123456(7) ' })).toEqual({
      first_name: 'tai man',
      last_name: 'chan',
      id_number: 'a123456(7)',
    });
  });
});

describe('maskEkyc', () => {
  it('shows names, nationality, id type, the last four of the id number, email and phone', () => {
    expect(maskEkyc(ekyc)).toEqual({
      first_name: 'Tai Man',
      last_name: 'Chan',
      nationality: 'HK',
      id_type: 'national_id',
      id_number_last4: '4567',
      email: 'taiman.chan@example.com',
      phone: '+85291234567',
    });
  });

  it('never contains the full id number, the date of birth or the address', () => {
    const masked = JSON.stringify(maskEkyc({ ...ekyc, id_number: 'P98765432' }));
    expect(masked).not.toContain('P98765432');
    expect(masked).not.toContain('1990-05-17');
    expect(masked).not.toContain('Queen');
    expect(masked).not.toMatch(/date_of_birth|address|"id_number"/);
  });

  it('takes the last four letters or digits, skipping separators', () => {
    expect(idNumberLast4('K-1234-5678')).toBe('5678');
    expect(idNumberLast4('A123456(7)')).toBe('4567');
  });
});

describe('dateOfBirthProblem', () => {
  const today = '2025-03-04';

  it('accepts a real past date', () => {
    expect(dateOfBirthProblem('1990-05-17', today)).toBeUndefined();
    expect(dateOfBirthProblem('2000-02-29', today)).toBeUndefined();
  });

  it('rejects dates that do not exist', () => {
    expect(dateOfBirthProblem('2023-02-29', today)).toMatch(/real date/);
    expect(dateOfBirthProblem('1990-13-01', today)).toMatch(/real date/);
    expect(dateOfBirthProblem('1990-04-31', today)).toMatch(/real date/);
  });

  it('rejects other formats', () => {
    expect(dateOfBirthProblem('17/05/1990', today)).toMatch(/YYYY-MM-DD/);
    expect(dateOfBirthProblem('1990-5-17', today)).toMatch(/YYYY-MM-DD/);
    expect(dateOfBirthProblem('1990-05-17T00:00:00Z', today)).toMatch(/YYYY-MM-DD/);
  });

  it('rejects today and the future', () => {
    expect(dateOfBirthProblem(today, today)).toMatch(/past/);
    expect(dateOfBirthProblem('2030-01-01', today)).toMatch(/past/);
  });

  it('rejects an age over 120 years', () => {
    expect(dateOfBirthProblem('1905-03-04', today)).toBeUndefined();
    expect(dateOfBirthProblem('1905-03-03', today)).toMatch(/120 years/);
    expect(dateOfBirthProblem('0990-05-17', today)).toMatch(/120 years/);
  });

  it('knows leap years', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('1900-02-29')).toBe(false);
  });
});

describe('isE164', () => {
  it('accepts international numbers with a leading +', () => {
    expect(isE164('+85291234567')).toBe(true);
    expect(isE164('+14155552671')).toBe(true);
    expect(isE164('+447911123456')).toBe(true);
  });

  it('rejects local formats, separators, a leading zero country code and more than 15 digits', () => {
    for (const phone of ['91234567', '0085291234567', '+852 9123 4567', '+852-91234567', '+085291234567', '+1234567890123456', '+12345', '']) {
      expect(isE164(phone), phone).toBe(false);
    }
  });
});

describe('country codes', () => {
  it('holds the 249 assigned ISO 3166-1 alpha-2 codes', () => {
    expect(COUNTRY_CODES.size).toBe(249);
  });

  it('are all regions the ICU data of this runtime knows', () => {
    const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
    const unknown = [...COUNTRY_CODES].filter((code) => names.of(code) === undefined);
    expect(unknown).toEqual([]);
  });

  it('rejects unassigned and reserved codes and other formats', () => {
    for (const code of ['XX', 'UK', 'EU', 'ZZ', 'hk', 'HKG', '']) expect(isCountryCode(code), code).toBe(false);
    for (const code of ['HK', 'GB', 'US', 'JP', 'SG']) expect(isCountryCode(code), code).toBe(true);
  });
});

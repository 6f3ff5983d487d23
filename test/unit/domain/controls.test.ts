/**
 * Spending controls as pure rules: what a partner may send, how both levels combine, and which
 * merchant each level refuses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ControlsBody, controlsDecline, controlsView, effectiveMaxDailyCount, NO_CONTROLS, parseControls } from '../../../shared/domain/controls.ts';

describe('ControlsBody', () => {
  it('accepts 4-digit MCCs, ISO 3166-1 alpha-2 countries and a non-negative integer count', () => {
    const parsed = ControlsBody.safeParse({ allowed_mccs: ['5814'], blocked_countries: ['KP', 'HK'], max_daily_count: 0 });
    expect(parsed.success).toBe(true);
  });

  it.each([
    [{ allowed_mccs: ['581'] }, 'allowed_mccs.0'],
    [{ blocked_mccs: ['58144'] }, 'blocked_mccs.0'],
    [{ blocked_mccs: [5814] }, 'blocked_mccs.0'],
    [{ allowed_countries: ['hk'] }, 'allowed_countries.0'],
    [{ blocked_countries: ['XX'] }, 'blocked_countries.0'],
    [{ blocked_countries: ['HKG'] }, 'blocked_countries.0'],
    [{ max_daily_count: -1 }, 'max_daily_count'],
    [{ max_daily_count: 1.5 }, 'max_daily_count'],
    [{ max_daily_count: '3' }, 'max_daily_count'],
  ])('refuses %j at %s', (body, path) => {
    const parsed = ControlsBody.safeParse(body);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });
});

describe('parseControls', () => {
  it('stores lists de-duplicated and sorted, and a missing field as no restriction', () => {
    expect(parseControls({ blocked_mccs: ['7995', '5814', '7995'] })).toEqual({ ...NO_CONTROLS, blockedMccs: ['5814', '7995'] });
    expect(parseControls(undefined)).toEqual(NO_CONTROLS);
    expect(controlsView(parseControls({ max_daily_count: 4 }))).toEqual({
      allowed_mccs: [],
      blocked_mccs: [],
      allowed_countries: [],
      blocked_countries: [],
      max_daily_count: 4,
    });
  });
});

describe('controlsDecline', () => {
  const merchant = { mcc: '5814', country: 'HK' };

  it('lets everything through when no level restricts (empty lists)', () => {
    expect(controlsDecline([NO_CONTROLS, NO_CONTROLS], merchant)).toBeUndefined();
    expect(controlsDecline([], { mcc: null, country: '' })).toBeUndefined();
  });

  it('needs both levels to pass: either refusing is a decline', () => {
    const card = { ...NO_CONTROLS, allowedMccs: ['5814'] };
    const business = { ...NO_CONTROLS, blockedCountries: ['HK'] };
    expect(controlsDecline([card, NO_CONTROLS], merchant)).toBeUndefined();
    expect(controlsDecline([card, business], merchant)).toBe('merchant_country_blocked');
    expect(controlsDecline([{ ...NO_CONTROLS, blockedMccs: ['5814'] }, business], merchant)).toBe('merchant_category_blocked');
  });

  it('refuses a merchant without an MCC or country under an allow list, never under a block list alone', () => {
    expect(controlsDecline([{ ...NO_CONTROLS, allowedMccs: ['5814'] }], { mcc: null, country: 'HK' })).toBe('merchant_category_blocked');
    expect(controlsDecline([{ ...NO_CONTROLS, allowedCountries: ['HK'] }], { mcc: '5814', country: '' })).toBe('merchant_country_blocked');
    expect(controlsDecline([{ ...NO_CONTROLS, blockedMccs: ['5814'], blockedCountries: ['HK'] }], { mcc: null, country: '' })).toBeUndefined();
  });

  it('is the same whichever order the levels come in, and adding a level can only refuse more', () => {
    const codes = fc.uniqueArray(fc.constantFrom('5814', '5411', 'HK', 'SG'), { maxLength: 2 });
    const level = fc.record({ allowedMccs: codes, blockedMccs: codes, allowedCountries: codes, blockedCountries: codes, maxDailyCount: fc.nat(3) });
    fc.assert(
      fc.property(level, level, fc.constantFrom('5814', '5411'), fc.constantFrom('HK', 'SG'), (a, b, mcc, country) => {
        const facts = { mcc, country };
        expect(controlsDecline([a, b], facts)).toBe(controlsDecline([b, a], facts));
        if (controlsDecline([a], facts)) expect(controlsDecline([a, b], facts)).toBeDefined();
      }),
    );
  });
});

describe('effectiveMaxDailyCount', () => {
  it('takes the stricter level that is on; 0 when none is', () => {
    expect(effectiveMaxDailyCount([NO_CONTROLS, NO_CONTROLS])).toBe(0);
    expect(effectiveMaxDailyCount([{ ...NO_CONTROLS, maxDailyCount: 5 }, NO_CONTROLS])).toBe(5);
    expect(effectiveMaxDailyCount([{ ...NO_CONTROLS, maxDailyCount: 5 }, { ...NO_CONTROLS, maxDailyCount: 3 }])).toBe(3);
  });
});

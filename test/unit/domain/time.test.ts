import { describe, expect, it } from 'vitest';
import { isoFromMicros, nowIso } from '../../../shared/domain/time.ts';

describe('timestamps', () => {
  it('are RFC 3339 UTC with microseconds', () => {
    expect(nowIso()).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(isoFromMicros(1741059131051702n)).toBe('2025-03-04T03:32:11.051702Z');
  });

  it('are close to the wall clock', () => {
    expect(Math.abs(Date.parse(nowIso()) - Date.now())).toBeLessThan(5_000);
  });
});

/**
 * API.md times are RFC 3339 UTC with microseconds (`2025-03-04T03:32:11.051702Z`). `Date` only
 * has milliseconds, so the microseconds come from the high-resolution clock.
 */
export function nowIso(): string {
  const micros = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
  return isoFromMicros(micros);
}

export function isoFromMicros(micros: bigint): string {
  const ms = Number(micros / 1000n);
  const base = new Date(ms).toISOString(); // 2025-03-04T03:32:11.051Z
  const frac = (micros % 1_000_000n).toString().padStart(6, '0');
  return `${base.slice(0, 19)}.${frac}Z`;
}

/**
 * The hold-expiry sweeper (ARCHITECTURE.md invariant 9: every hold ends): a scheduled function
 * (every 5 minutes in AWS, a timer in the local stack) that releases each hold nobody captured or
 * reversed by its expiry time (shared/domain/hold-expiry.ts), oldest first, bounded per run (the
 * next run takes the rest).
 *
 * Each expiry is its own transaction (status `Expired`, the windows given back, the release
 * posting, the `Expired` event), conditional on the transaction's version as read: a capture,
 * reversal or increment that commits first makes the expiry re-read and decide again, so a hold
 * is never released twice. A run is safe to repeat or to overlap with another.
 */
import { config } from '../config.ts';
import { isoFromMicros } from '../domain/time.ts';
import { ApiError } from '../errors.ts';
import { HOLD_EXPIRY_SHARDS } from '../db/keys.ts';
import { listExpiredHolds } from '../db/transactions-repository.ts';
import { logger } from '../logger.ts';
import { expireAuthorization, HoldNotDue } from './authorizations.ts';

export interface HoldExpiryReport {
  /** Holds the index showed past their expiry. */
  due: number;
  /** Released now (status Expired). */
  expired: number;
  /** Captured, reversed or extended meanwhile: left as they are. */
  moved: number;
  /** Failed on a dependency (throttling, say): still in the index, taken again by the next run. */
  failed: number;
}

export async function expireDueHolds(nowMs = Date.now()): Promise<HoldExpiryReport> {
  const now = isoFromMicros(BigInt(Math.floor(nowMs)) * 1000n);
  const ids = await listExpiredHolds(now, Math.ceil(config().HOLD_EXPIRY_SWEEP_LIMIT / HOLD_EXPIRY_SHARDS));
  const report: HoldExpiryReport = { due: ids.length, expired: 0, moved: 0, failed: 0 };
  for (const transactionId of ids) {
    try {
      await expireAuthorization({ network: true }, transactionId, undefined, now);
      report.expired++;
    } catch (error) {
      // A 409 (settled, reversed, already expired) or a pushed-on expiry: someone else ended or extended it.
      if (error instanceof HoldNotDue || (error instanceof ApiError && error.statusCode === 409)) {
        report.moved++;
        continue;
      }
      report.failed++;
      logger.error('hold expiry: a hold could not be released; the next run tries again', {
        transactionId,
        error: error instanceof Error ? error.name : 'unknown',
      });
    }
  }
  if (report.due > 0) logger.info('hold expiry: released expired holds', { ...report });
  return report;
}

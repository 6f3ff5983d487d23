/**
 * The hold-expiry sweeper (ARCHITECTURE.md invariant 9: every hold ends): a scheduled function
 * (every 5 minutes in AWS, a timer in the local stack) that releases each hold nobody captured or
 * reversed by its expiry time (shared/domain/hold-expiry.ts), oldest first.
 *
 * A run pages through every shard of the expiry index until nothing is due or its time budget
 * (`HOLD_EXPIRY_SWEEP_SECONDS`) is spent, releasing up to `HOLD_EXPIRY_SWEEP_CONCURRENCY` holds at
 * once; what is left, and every hold that failed (throttling, say: counted, logged by id, still in
 * the index), is the next run's. A failure never blocks the holds behind it: paging goes on past it.
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
import { expiredHoldsPage } from '../db/transactions-repository.ts';
import { logger } from '../logger.ts';
import { expireAuthorization, HoldNotDue } from './authorization-adjustments.ts';

/** Index entries read per Query: a page is released before the next is read. */
const PAGE_SIZE = 100;

export interface HoldExpiryReport {
  /** Holds the index showed past their expiry (and this run reached). */
  due: number;
  /** Released now (status Expired). */
  expired: number;
  /** Captured, reversed or extended meanwhile: left as they are. */
  moved: number;
  /** Failed on a dependency (throttling, say): still in the index, taken again by the next run. */
  failed: number;
  /** The budget ran out with due holds left unread: the next run goes on. */
  unfinished: boolean;
}

export async function expireDueHolds(nowMs = Date.now()): Promise<HoldExpiryReport> {
  const { HOLD_EXPIRY_SWEEP_SECONDS, HOLD_EXPIRY_SWEEP_CONCURRENCY } = config();
  const deadline = performance.now() + HOLD_EXPIRY_SWEEP_SECONDS * 1000;
  const now = isoFromMicros(BigInt(Math.floor(nowMs)) * 1000n);
  const report: HoldExpiryReport = { due: 0, expired: 0, moved: 0, failed: 0, unfinished: false };
  // The shards are swept side by side, each with its share of the concurrency; with more shards
  // than the concurrency, that many shards at a time, one release each, starting at a shard drawn
  // per run, so a backlog longer than one run cannot leave the same shards last every time.
  const perShard = Math.max(1, Math.floor(HOLD_EXPIRY_SWEEP_CONCURRENCY / HOLD_EXPIRY_SHARDS));
  const first = Math.floor(Math.random() * HOLD_EXPIRY_SHARDS);
  const shards = Array.from({ length: HOLD_EXPIRY_SHARDS }, (_, i) => (first + i) % HOLD_EXPIRY_SHARDS);
  await inParallel(shards, Math.ceil(HOLD_EXPIRY_SWEEP_CONCURRENCY / perShard), async (shard) => {
    let startKey: Record<string, unknown> | undefined;
    do {
      if (performance.now() >= deadline) {
        report.unfinished = true;
        return;
      }
      const page = await expiredHoldsPage(shard, now, PAGE_SIZE, startKey);
      report.due += page.ids.length;
      await inParallel(page.ids, perShard, (transactionId) => expireOne(transactionId, now, report));
      startKey = page.next;
    } while (startKey);
  });
  if (report.due > 0) logger.info('hold expiry: released expired holds', { ...report });
  return report;
}

async function expireOne(transactionId: string, now: string, report: HoldExpiryReport): Promise<void> {
  try {
    await expireAuthorization({ network: true }, transactionId, undefined, now);
    report.expired++;
  } catch (error) {
    // A 409 (settled, reversed, already expired) or a pushed-on expiry: someone else ended or extended it.
    if (error instanceof HoldNotDue || (error instanceof ApiError && error.statusCode === 409)) {
      report.moved++;
      return;
    }
    report.failed++;
    logger.error('hold expiry: a hold could not be released; the next run tries again', {
      transactionId,
      error: error instanceof Error ? error.name : 'unknown',
    });
  }
}

/** Runs `work` on every item, at most `limit` at once. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/**
 * The `schedules` table (shared/routes.ts): one EventBridge rule per row, invoking its function
 * at the row's rate. EventBridge invokes asynchronously; a run that fails (or is never invoked)
 * leaves its work to the next one, so the target keeps no DLQ and EventBridge does not hold a
 * missed run longer than one period: a late copy of a run would only repeat the next.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import type { PlatformFunction } from './platform-function.ts';
import type { ScheduleRow } from '../../shared/routes.ts';

export function scheduleDescription(row: ScheduleRow): string {
  return `Scheduled every ${row.everyMinutes} minute${row.everyMinutes === 1 ? '' : 's'}: ${row.handler}`;
}

/** Runs `fn` on its row's rate; the rule invokes `fn.invocationTarget` (its `live` alias on a canary stage). */
export function attachSchedule(scope: Construct, fn: PlatformFunction, row: ScheduleRow): events.Rule {
  if (!Number.isInteger(row.everyMinutes) || row.everyMinutes < 1) throw new Error(`Schedule ${row.handler}: everyMinutes must be a whole number of minutes, at least 1`);
  if (row.timeoutSeconds > row.everyMinutes * 60) throw new Error(`Schedule ${row.handler}: its timeout outlasts its period`);
  const rule = new events.Rule(scope, `${fn.node.id}Schedule`, {
    description: scheduleDescription(row),
    schedule: events.Schedule.rate(Duration.minutes(row.everyMinutes)),
  });
  rule.addTarget(new targets.LambdaFunction(fn.invocationTarget, { retryAttempts: 2, maxEventAge: Duration.minutes(row.everyMinutes) }));
  return rule;
}

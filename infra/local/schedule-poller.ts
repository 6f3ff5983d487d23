/**
 * The local EventBridge schedule: invokes a scheduled function every period with a Lambda-shaped
 * `ScheduledEvent`, as a rule of the CDK stack does (infra/constructs/schedules.ts). A run that
 * throws is reported and the next one happens as planned; runs of one schedule never overlap.
 */
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import type { LambdaHandler } from './handler-loader.ts';
import { lambdaContext } from './lambda-context.ts';
import { createPoller, type PollControl, type Poller } from './poller.ts';

export interface SchedulePollerOptions {
  name: string;
  handler: () => Promise<LambdaHandler>;
  everyMs: number;
  timeoutSeconds: number;
  region: string;
  accountId: string;
  onError: (message: string, error: unknown) => void;
}

export function createSchedulePoller(options: SchedulePollerOptions): Poller {
  async function loop(control: PollControl): Promise<void> {
    // Like a rate rule, the first run is one period after the start.
    while (!control.stopped) {
      await control.sleep(options.everyMs);
      if (control.stopped) return;
      try {
        const handler = await options.handler();
        await handler(scheduledEvent(options), lambdaContext(options.name, options.timeoutSeconds * 1000, options.region, options.accountId));
      } catch (error) {
        options.onError(`${options.name}: scheduled run failed; the next run is as planned`, error);
      }
    }
  }
  return createPoller(options.name, loop, (error) => options.onError(`${options.name}: schedule failed`, error));
}

function scheduledEvent(options: SchedulePollerOptions): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: options.accountId,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: options.region,
    resources: [`arn:aws:events:${options.region}:${options.accountId}:rule/local-${options.name.replace(/[^A-Za-z0-9-]+/g, '-')}`],
    detail: {},
  };
}

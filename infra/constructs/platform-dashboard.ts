/**
 * One CloudWatch dashboard per stage, `CardPlatform-<stage>`: the state of every alarm, the graph
 * behind each, every function's errors and throttles, and what the business watches.
 *
 * Business figures are Powertools Metrics (EMF) in the `CardPlatform` namespace. The widgets find
 * them with SEARCH by metric name and this stage's `stage` dimension, whatever other dimensions
 * they carry (`service`; declines carry `reason`, webhook attempts and OTPs `outcome`), so they show
 * data as soon as the functions emit it (shared/metrics.ts), and two stages deployed in one account
 * each see their own.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { stackName, type StageConfig } from '../stage-config.ts';
import { RUNBOOK, type Flow, type PlatformAlarms, type RunbookEntry, type WatchedFunction } from './platform-alarms.ts';

export const BUSINESS_NAMESPACE = 'CardPlatform';
/** The business metrics the functions emit (Powertools Metrics), and their dimension if any. */
export const BUSINESS_METRICS = {
  AuthorizationApproved: undefined,
  AuthorizationDeclined: 'reason',
  Capture: undefined,
  WebhookAttempt: 'outcome',
  WebhookLatency: undefined,
  OtpOutcome: 'outcome',
  Deposit: undefined,
} as const;
export type BusinessMetric = keyof typeof BUSINESS_METRICS;

const FLOW_TITLES: Record<Flow, string> = {
  network: 'Card network routes',
  'partner-api': 'Partner API routes',
  authorizers: 'Authorizers',
  webhooks: 'Webhook pipeline',
};
const MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

export interface PlatformDashboardProps {
  config: StageConfig;
  api: apigw.RestApi;
  alarms: PlatformAlarms;
  functions: readonly WatchedFunction[];
}

export class PlatformDashboard extends Construct {
  readonly dashboard: cw.Dashboard;

  constructor(scope: Construct, id: string, props: PlatformDashboardProps) {
    super(scope, id);
    const { alarms, api } = props;
    const stage = props.config.stage;
    const dashboardName = stackName(props.config.stage);
    this.dashboard = new cw.Dashboard(this, 'Dashboard', { dashboardName, defaultInterval: Duration.hours(3) });

    const heading = (text: string) => new cw.TextWidget({ markdown: `## ${text}`, width: 24, height: 1 });
    const alarmGraphs = (...entries: RunbookEntry[]) =>
      entries.flatMap((entry) => alarms.byRunbookEntry.get(entry) ?? []).map((alarm) => new cw.AlarmWidget({ alarm, title: alarm.alarmName, width: 8, height: 6 }));

    this.dashboard.addWidgets(
      new cw.TextWidget({
        markdown: `# Card platform (${props.config.stage})\nEvery alarm's runbook: README.md, "Operating the stack".`,
        width: 24,
        height: 2,
      }),
      new cw.AlarmStatusWidget({ title: 'Alarms', alarms: alarms.all, width: 24, height: 6 }),

      heading('API'),
      new cw.GraphWidget({
        title: 'Requests and errors',
        left: [
          api.metricCount({ statistic: cw.Stats.SUM, period: MINUTE, label: 'Requests' }),
          api.metricClientError({ statistic: cw.Stats.SUM, period: MINUTE, label: '4xx' }),
          api.metricServerError({ statistic: cw.Stats.SUM, period: MINUTE, label: '5xx' }),
        ],
        width: 8,
        height: 6,
      }),
      ...alarmGraphs(RUNBOOK.apiServerErrors, RUNBOOK.networkLatency),

      heading('Functions: errors and throttles, per function'),
      ...(['network', 'partner-api', 'authorizers', 'webhooks'] as const).flatMap((flow) => {
        const watched = props.functions.filter((candidate) => candidate.flow === flow);
        if (watched.length === 0) return [];
        return [
          new cw.GraphWidget({
            title: `${FLOW_TITLES[flow]}: errors`,
            left: watched.map((member) => member.fn.metricErrors({ statistic: cw.Stats.SUM, period: MINUTE, label: member.label })),
            width: 12,
            height: 6,
          }),
          new cw.GraphWidget({
            title: `${FLOW_TITLES[flow]}: throttles`,
            left: watched.map((member) => member.fn.metricThrottles({ statistic: cw.Stats.SUM, period: MINUTE, label: member.label })),
            width: 12,
            height: 6,
          }),
        ];
      }),
      new cw.GraphWidget({
        title: 'Card network routes: concurrent executions (reserved per route in production)',
        left: props.functions
          .filter((member) => member.flow === 'network')
          .map((member) => member.fn.metric('ConcurrentExecutions', { statistic: cw.Stats.MAXIMUM, period: MINUTE, label: member.label })),
        width: 24,
        height: 6,
      }),

      heading('Webhook pipeline'),
      ...alarmGraphs(RUNBOOK.undeliveredEvents, RUNBOOK.streamLag, RUNBOOK.deadLetters),

      heading('Table and keys'),
      ...alarmGraphs(RUNBOOK.tableThrottles, RUNBOOK.tableSystemErrors, RUNBOOK.kmsRequestRate),

      heading(`Business (${BUSINESS_NAMESPACE} metrics)`),
      businessGraph('Authorizations', [
        search(stage, 'AuthorizationApproved', 'Sum', 'Approved'),
        sumOf(search(stage, 'AuthorizationDeclined', 'Sum'), 'Declined'),
      ]),
      businessGraph('Declines by reason', [search(stage, 'AuthorizationDeclined', 'Sum')]),
      businessGraph('Captures and deposits', [search(stage, 'Capture', 'Sum', 'Captures'), search(stage, 'Deposit', 'Sum', 'Deposits')]),
      businessGraph('Webhook attempts by outcome', [search(stage, 'WebhookAttempt', 'Sum')]),
      businessGraph('Webhook latency', [search(stage, 'WebhookLatency', 'p50', 'p50'), search(stage, 'WebhookLatency', 'p99', 'p99')]),
      businessGraph('3DS one-time codes by outcome', [search(stage, 'OtpOutcome', 'Sum')]),
    );
  }
}

/** The SEARCH term of a business metric on one stage (every metric carries `service` and `stage`). */
export function businessSearchTerm(metric: BusinessMetric, stage: string): string {
  return `Namespace="${BUSINESS_NAMESPACE}" MetricName="${metric}" stage="${stage}"`;
}

/** Every series of a business metric on one stage, one per dimension value (a reason, an outcome). */
function search(stage: string, metric: BusinessMetric, statistic: string, label?: string): cw.MathExpression {
  return new cw.MathExpression({
    expression: `SEARCH('${businessSearchTerm(metric, stage)}', '${statistic}', ${FIVE_MINUTES.toSeconds()})`,
    usingMetrics: {},
    label,
    period: FIVE_MINUTES,
  });
}

function sumOf(expression: cw.MathExpression, label: string): cw.MathExpression {
  return new cw.MathExpression({ expression: `SUM(${expression.expression})`, usingMetrics: {}, label, period: FIVE_MINUTES });
}

function businessGraph(title: string, left: cw.IMetric[]): cw.GraphWidget {
  return new cw.GraphWidget({ title, left, width: 8, height: 6, period: FIVE_MINUTES });
}

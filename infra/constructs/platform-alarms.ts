/**
 * The alarms of a stage: each notifies the alarm topic when it fires and when it clears, and its
 * description names the README runbook entry that says what it means and what to do
 * ("Operating the stack"). Names are `CardPlatform-<stage>-<what>`, so the runbook can name them.
 *
 * Function errors and throttles are watched per flow (the card network's routes, the partner API,
 * the authorizers, the webhook pipeline) with metric math over the flow's functions, rather than one
 * alarm per function: ~45 functions would cost ~90 alarms. An alarm may read at most 10 metrics, so
 * a flow of more functions is watched in parts of 10 (`-partner-api-1`, `-2`, ...); the dashboard
 * graphs every function on its own.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueName } from '../../shared/routes.ts';
import { stackName, type StageConfig } from '../stage-config.ts';

/** The README runbook entries ("Operating the stack" → "Alarms"), one per kind of alarm. */
export const RUNBOOK = {
  deadLetters: 'Dead letters',
  undeliveredEvents: 'Undelivered events',
  streamLag: 'Outbox stream lag',
  functionErrors: 'Function errors',
  authorizerErrors: 'Authorizer errors',
  functionThrottles: 'Function throttles',
  apiServerErrors: 'API 5xx rate',
  networkLatency: 'Network authorization latency',
  tableThrottles: 'DynamoDB throttles',
  tableSystemErrors: 'DynamoDB system errors',
  kmsRequestRate: 'KMS request rate',
} as const;
export type RunbookEntry = (typeof RUNBOOK)[keyof typeof RUNBOOK];

/** The route whose latency the card network holds the issuer to. */
export const NETWORK_AUTHORIZATION_ROUTE = { method: 'POST', path: '/network/authorizations' } as const;

/**
 * How old the oldest undelivered message of a queue may get. A first attempt happens within
 * seconds; a message SQS has handed out three times drops out of `ApproximateAgeOfOldestMessage`,
 * so the age measures a backlog of fresh events (consumer down, throttled or at its maximum
 * concurrency), not one partner's retries. An OTP is useless after its 5 minutes.
 */
export const UNDELIVERED_AGE_LIMIT: Record<QueueName, Duration> = {
  otp: Duration.minutes(1),
  events: Duration.minutes(5),
};
/** The outbox dispatcher's lag behind the table's stream before webhooks are noticeably late. */
export const STREAM_LAG_LIMIT = Duration.minutes(1);
/** A 5xx rate (% of requests) is judged only on minutes with at least this many requests. */
export const API_RATE_MIN_REQUESTS = 10;
export const API_5XX_PERCENT_LIMIT = 1;
/** Share (%) of the account's KMS cryptographic request quota. */
export const KMS_QUOTA_PERCENT_LIMIT = 80;
/**
 * The table operations the platform's roles may call (infra/constructs/access.ts), each its own
 * `Operation` dimension of `ThrottledRequests` and `SystemErrors`.
 */
export const TABLE_OPERATIONS = ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems'];
/** KMS operations the platform makes (envelope encryption, keyed hashes, DynamoDB's use of the table key). */
export const KMS_OPERATIONS = ['GenerateMac', 'GenerateDataKey', 'Decrypt', 'Encrypt'];

/** An alarm may read at most 10 metrics (a hard CloudWatch limit). */
const METRICS_PER_ALARM = 10;
const MINUTE = Duration.minutes(1);

export type Flow = 'network' | 'partner-api' | 'authorizers' | 'webhooks';

/** A function the alarms watch, under the name a reader of the alarm knows it by. */
export interface WatchedFunction {
  flow: Flow;
  /** `POST /network/authorizations`, `authorizer of business credentials`, `webhooks/deliver-otp`, ... */
  label: string;
  fn: lambda.IFunction;
}

export interface PlatformAlarmsProps {
  config: StageConfig;
  topic: sns.ITopic;
  api: apigw.RestApi;
  table: dynamodb.ITable;
  queues: ReadonlyMap<QueueName, { queue: sqs.IQueue; deadLetterQueue: sqs.IQueue }>;
  /** Failures of the stream consumers, when any consumer reads the stream. */
  streamDeadLetterQueue?: sqs.IQueue;
  functions: readonly WatchedFunction[];
  /** The consumers of the table's stream, whose `IteratorAge` is the outbox lag. */
  streamConsumers: readonly lambda.IFunction[];
}

export class PlatformAlarms extends Construct {
  /** Every alarm, in the order of the runbook. */
  readonly all: cw.Alarm[] = [];
  /** Alarms by runbook entry, for the dashboard. */
  readonly byRunbookEntry = new Map<RunbookEntry, cw.Alarm[]>();
  readonly apiServerErrors: cw.Alarm;
  readonly networkAuthorizationLatency?: cw.Alarm;
  readonly streamLag?: cw.Alarm;
  private readonly errorsByFunction = new Map<lambda.IFunction, cw.Alarm>();
  /** Each alarm's fixed name (its `alarmName` is a reference, which another stack cannot hold here). */
  private readonly names = new Map<cw.Alarm, string>();
  private readonly props: PlatformAlarmsProps;

  constructor(scope: Construct, id: string, props: PlatformAlarmsProps) {
    super(scope, id);
    this.props = props;
    const { api, table, config } = props;

    const deadLetterQueues: [string, sqs.IQueue][] = [...props.queues].map(([name, pair]) => [name, pair.deadLetterQueue]);
    if (props.streamDeadLetterQueue) deadLetterQueues.push(['stream', props.streamDeadLetterQueue]);
    for (const [name, queue] of deadLetterQueues) {
      this.add(`dead-letters-${name}`, RUNBOOK.deadLetters, {
        description: `Messages are parked in the ${name} dead-letter queue`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ statistic: cw.Stats.MAXIMUM, period: MINUTE }),
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods: 1,
      });
    }

    // The undelivered-events sweeper may later publish an age of its own; until then the queues'
    // oldest message is the measure.
    for (const [name, pair] of props.queues) {
      const limit = UNDELIVERED_AGE_LIMIT[name];
      this.add(`undelivered-${name}-age`, RUNBOOK.undeliveredEvents, {
        description: `The oldest message in the ${name} queue has waited ${limit.toHumanString()} or more`,
        metric: pair.queue.metricApproximateAgeOfOldestMessage({ statistic: cw.Stats.MAXIMUM, period: MINUTE }),
        threshold: limit.toSeconds(),
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
      });
    }

    if (props.streamConsumers.length > 0) {
      this.streamLag = this.add('stream-iterator-age', RUNBOOK.streamLag, {
        description: `The outbox dispatcher is ${STREAM_LAG_LIMIT.toHumanString()} or more behind the table's stream`,
        metric: mathOver('MAX', props.streamConsumers.map((fn) => fn.metric('IteratorAge', { statistic: cw.Stats.MAXIMUM, period: MINUTE })), 'Iterator age (ms)'),
        threshold: STREAM_LAG_LIMIT.toMilliseconds(),
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
      });
    }

    for (const flow of ['network', 'partner-api', 'authorizers', 'webhooks'] as const) {
      const watched = props.functions.filter((candidate) => candidate.flow === flow);
      const parts = chunk(watched, METRICS_PER_ALARM);
      parts.forEach((part, index) => {
        const suffix = parts.length > 1 ? `-${index + 1}` : '';
        const members = part.map((member) => member.label).join(', ');
        const errors = this.add(`errors-${flow}${suffix}`, flow === 'authorizers' ? RUNBOOK.authorizerErrors : RUNBOOK.functionErrors, {
          description: `Invocations failed (crash, timeout, out of memory) in: ${members}`,
          metric: mathOver('SUM', part.map((member) => member.fn.metricErrors({ statistic: cw.Stats.SUM, period: MINUTE, label: member.label })), 'Errors'),
          threshold: 1,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
        });
        for (const member of part) this.errorsByFunction.set(member.fn, errors);
        this.add(`throttles-${flow}${suffix}`, RUNBOOK.functionThrottles, {
          description: `Invocations were throttled in: ${members}`,
          metric: mathOver('SUM', part.map((member) => member.fn.metricThrottles({ statistic: cw.Stats.SUM, period: MINUTE, label: member.label })), 'Throttles'),
          threshold: 1,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
        });
      });
    }

    this.apiServerErrors = this.add('api-5xx-rate', RUNBOOK.apiServerErrors, {
      description: `More than ${API_5XX_PERCENT_LIMIT}% of API requests answered 5xx (minutes with ${API_RATE_MIN_REQUESTS}+ requests)`,
      metric: new cw.MathExpression({
        expression: `IF(requests >= ${API_RATE_MIN_REQUESTS}, 100 * errors / requests, 0)`,
        usingMetrics: {
          requests: api.metricCount({ statistic: cw.Stats.SUM, period: MINUTE }),
          errors: api.metricServerError({ statistic: cw.Stats.SUM, period: MINUTE }),
        },
        label: '5xx (% of requests)',
        period: MINUTE,
      }),
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: API_5XX_PERCENT_LIMIT,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });

    const networkRoute = props.functions.some((watched) => watched.label === `${NETWORK_AUTHORIZATION_ROUTE.method} ${NETWORK_AUTHORIZATION_ROUTE.path}`);
    if (networkRoute) {
      // Method-level metrics: the stage enables detailed metrics for every method (platform-api.ts).
      this.networkAuthorizationLatency = this.add('network-authorization-p99', RUNBOOK.networkLatency, {
        description: `p99 latency of ${NETWORK_AUTHORIZATION_ROUTE.method} ${NETWORK_AUTHORIZATION_ROUTE.path} is above ${config.networkAuthorizationP99Ms} ms`,
        metric: new cw.Metric({
          namespace: 'AWS/ApiGateway',
          metricName: 'Latency',
          dimensionsMap: {
            ApiName: api.restApiName,
            Stage: config.stage,
            Resource: NETWORK_AUTHORIZATION_ROUTE.path,
            Method: NETWORK_AUTHORIZATION_ROUTE.method,
          },
          statistic: 'p99',
          period: MINUTE,
        }),
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: config.networkAuthorizationP99Ms,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        // A p99 of a handful of requests is one cold start, not a trend.
        evaluateLowSampleCountPercentile: 'ignore',
      });
    }

    const tableMetric = (metricName: string) =>
      mathOver(
        'SUM',
        TABLE_OPERATIONS.map(
          (operation) =>
            new cw.Metric({
              namespace: 'AWS/DynamoDB',
              metricName,
              dimensionsMap: { TableName: table.tableName, Operation: operation },
              statistic: cw.Stats.SUM,
              period: MINUTE,
              label: operation,
            }),
        ),
        metricName,
      );
    this.add('table-throttles', RUNBOOK.tableThrottles, {
      description: 'DynamoDB throttled requests to the table (ThrottledRequests, all operations)',
      metric: tableMetric('ThrottledRequests'),
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
    this.add('table-system-errors', RUNBOOK.tableSystemErrors, {
      description: 'DynamoDB answered requests to the table with internal errors (SystemErrors)',
      metric: tableMetric('SystemErrors'),
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });

    this.add('kms-request-rate', RUNBOOK.kmsRequestRate, {
      description:
        `The account's KMS cryptographic requests reached ${KMS_QUOTA_PERCENT_LIMIT}% of their shared per-second quota (minute average; ` +
        'KMS publishes no throttle count, throttled calls surface as 503s and function errors)',
      metric: kmsQuotaUsage(),
      threshold: KMS_QUOTA_PERCENT_LIMIT,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    });
  }

  /**
   * What should roll a new version of a function back: its flow's errors, the API's 5xx rate for
   * functions behind the API, the outbox lag for stream consumers, and the p99 latency for the
   * network authorization route. Not throttles: they say capacity ran out, not that the code is bad.
   */
  rollbackAlarmsOf(watched: WatchedFunction): cw.Alarm[] {
    const alarms = [this.errorsByFunction.get(watched.fn)];
    if (watched.flow !== 'webhooks') alarms.push(this.apiServerErrors);
    if (watched.label === `${NETWORK_AUTHORIZATION_ROUTE.method} ${NETWORK_AUTHORIZATION_ROUTE.path}`) alarms.push(this.networkAuthorizationLatency);
    if (this.props.streamConsumers.includes(watched.fn)) alarms.push(this.streamLag);
    return alarms.filter((alarm): alarm is cw.Alarm => alarm !== undefined);
  }

  /** The names of {@link rollbackAlarmsOf}, for CodeDeploy groups in any stack of the stage. */
  rollbackAlarmNamesOf(watched: WatchedFunction): string[] {
    return this.rollbackAlarmsOf(watched).map((alarm) => this.names.get(alarm)!);
  }

  private add(slug: string, runbook: RunbookEntry, props: Omit<cw.AlarmProps, 'alarmName' | 'alarmDescription'> & { description: string }): cw.Alarm {
    const { description, ...alarmProps } = props;
    const alarmName = `${stackName(this.props.config.stage)}-${slug}`;
    const alarm = new cw.Alarm(this, slug, {
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means nothing happened: no messages, no invocations, no requests.
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      ...alarmProps,
      alarmName,
      alarmDescription: `${description}. Runbook: README.md, "Operating the stack", ${runbook}.`,
    });
    const notify = new actions.SnsAction(this.props.topic);
    alarm.addAlarmAction(notify);
    alarm.addOkAction(notify);
    this.all.push(alarm);
    this.names.set(alarm, alarmName);
    this.byRunbookEntry.set(runbook, [...(this.byRunbookEntry.get(runbook) ?? []), alarm]);
    return alarm;
  }
}

/** `SUM` or `MAX` of up to 10 metrics, per period; missing series count as nothing. */
function mathOver(fn: 'SUM' | 'MAX', metrics: cw.IMetric[], label: string): cw.MathExpression {
  if (metrics.length === 0 || metrics.length > METRICS_PER_ALARM) throw new Error(`An alarm reads 1 to ${METRICS_PER_ALARM} metrics, not ${metrics.length}`);
  return new cw.MathExpression({
    expression: `${fn}(METRICS())`,
    usingMetrics: Object.fromEntries(metrics.map((metric, index) => [`m${index}`, metric])),
    label,
    period: MINUTE,
  });
}

/**
 * KMS has no throttle metric (AWS/KMS only publishes key-material expiry and custom key store
 * figures), but AWS/Usage counts the account's calls per operation, and `SERVICE_QUOTA` gives the
 * quota they count against: every operation here, HMAC included, shares the "cryptographic
 * operations (symmetric)" request-rate quota, with DynamoDB's calls on the table's behalf. The
 * figure is a minute's average per second, so a burst within the minute can throttle below it.
 */
function kmsQuotaUsage(): cw.MathExpression {
  const usage = (operation: string) =>
    new cw.Metric({
      namespace: 'AWS/Usage',
      metricName: 'CallCount',
      dimensionsMap: { Service: 'KMS', Type: 'API', Resource: operation, Class: 'None' },
      statistic: cw.Stats.SUM,
      period: MINUTE,
      label: operation,
    });
  const [quotaReference, ...others] = KMS_OPERATIONS.map((operation) => operation.toLowerCase());
  const calls = [quotaReference, ...others.map((id) => `FILL(${id}, 0)`)].join(' + ');
  return new cw.MathExpression({
    expression: `100 * (${calls}) / PERIOD(${quotaReference}) / SERVICE_QUOTA(${quotaReference})`,
    usingMetrics: Object.fromEntries(KMS_OPERATIONS.map((operation) => [operation.toLowerCase(), usage(operation)])),
    label: 'KMS requests (% of quota)',
    period: MINUTE,
  });
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let start = 0; start < items.length; start += size) parts.push(items.slice(start, start + size));
  return parts;
}

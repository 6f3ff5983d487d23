/**
 * Operating a stage, as CloudFormation sees it: flows kept apart (reserved concurrency for the card
 * network, bounded webhook delivery, a per-IP rate limit that spares the network), an alarm on
 * every flow notifying one encrypted topic, and a dashboard of the same.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumers, queues, routesForStage } from '../../functions/routes.ts';
import { AlarmTopic } from '../../infra/constructs/alarm-topic.ts';
import { KMS_OPERATIONS, TABLE_OPERATIONS, UNDELIVERED_AGE_LIMIT } from '../../infra/constructs/platform-alarms.ts';
import { BUSINESS_METRICS, BUSINESS_NAMESPACE } from '../../infra/constructs/platform-dashboard.ts';
import { RATE_LIMIT_RULE_NAME } from '../../infra/constructs/web-acl.ts';
import { stageConfig, type Stage } from '../../infra/stage-config.ts';
import { functionByDescription, ofType, referencedId, referencedIds, resources, synthesize, type Synthesis, type Synthesized } from './support/synth.ts';

const STAGES: Stage[] = ['sandbox', 'production'];
let synthesis: Synthesis;
const stageOf = (stage: Stage): Synthesized => synthesis.stacks[stage]!;

beforeAll(() => {
  synthesis = synthesize({ sandbox: { stage: 'sandbox' }, production: { stage: 'production' } });
});
afterAll(() => synthesis?.dispose());

/** Alarms by name, without the `CardPlatform-<stage>-` prefix. */
function alarmsOf(stage: Stage): Map<string, any> {
  const prefix = `CardPlatform-${stage}-`;
  return new Map(
    ofType(stageOf(stage).template, 'AWS::CloudWatch::Alarm').map(([, props]) => {
      expect(props.AlarmName.startsWith(prefix), props.AlarmName).toBe(true);
      return [props.AlarmName.slice(prefix.length), props];
    }),
  );
}

/** The metrics an alarm reads: its single metric, or every MetricStat of its metric math. */
function metricsOf(alarm: any): { namespace: string; name: string; dimensions: Record<string, unknown>; stat: string }[] {
  const dimensionsOf = (list: { Name: string; Value: unknown }[] = []) => Object.fromEntries(list.map((d) => [d.Name, d.Value]));
  if (alarm.MetricName) {
    return [{ namespace: alarm.Namespace, name: alarm.MetricName, dimensions: dimensionsOf(alarm.Dimensions), stat: alarm.Statistic ?? alarm.ExtendedStatistic }];
  }
  return (alarm.Metrics as any[])
    .filter((query) => query.MetricStat)
    .map((query) => ({
      namespace: query.MetricStat.Metric.Namespace,
      name: query.MetricStat.Metric.MetricName,
      dimensions: dimensionsOf(query.MetricStat.Metric.Dimensions),
      stat: query.MetricStat.Stat,
    }));
}
const expressionOf = (alarm: any): string | undefined => (alarm.Metrics as any[] | undefined)?.find((query) => query.ReturnData !== false && query.Expression)?.Expression;

const logicalIdOf = (stage: Stage, construct: { node: { defaultChild?: unknown } }) => stageOf(stage).stack.getLogicalId(construct.node.defaultChild as never);

describe.each(STAGES)('the %s stack', (stage) => {
  const config = stageConfig(stage);

  describe('isolation between flows', () => {
    it("reserves the stage's concurrency for the card network's routes, and for nothing else", () => {
      const { template } = stageOf(stage);
      const reserved = Object.fromEntries(
        ofType(template, 'AWS::Lambda::Function')
          .filter(([, props]) => props.ReservedConcurrentExecutions !== undefined)
          .map(([, props]) => [props.Description, props.ReservedConcurrentExecutions]),
      );
      expect(reserved).toEqual(config.reservedConcurrency);
      for (const route of Object.keys(reserved)) expect(route.startsWith('POST /network/'), route).toBe(true);
    });

    it("caps each webhook queue's delivery function at the stage's maximum concurrency", () => {
      const { template, stack } = stageOf(stage);
      for (const row of queues) {
        const queueId = logicalIdOf(stage, stack.queues.byName.get(row.name)!.queue);
        const [mapping] = ofType(template, 'AWS::Lambda::EventSourceMapping').filter(([, props]) => referencedId(props.EventSourceArn) === queueId);
        expect(mapping, row.name).toBeDefined();
        expect(mapping![1].ScalingConfig, row.name).toEqual({ MaximumConcurrency: config.deliveryConcurrency[row.name] });
      }
    });

    it('rate-limits each source address on every path but the card network’s, in a rule of its own', () => {
      const [[, webAcl]] = ofType(stageOf(stage).template, 'AWS::WAFv2::WebACL') as [[string, any]];
      const rule = webAcl.Rules.find((candidate: any) => candidate.Name === RATE_LIMIT_RULE_NAME);
      expect(rule.Action).toEqual({ Block: {} });
      const priorities = webAcl.Rules.map((candidate: any) => candidate.Priority);
      expect(new Set(priorities).size).toBe(priorities.length);
      const { RateBasedStatement: rate } = rule.Statement;
      expect(rate).toMatchObject({ AggregateKeyType: 'IP', EvaluationWindowSec: 300, Limit: config.wafRateLimitPer5Minutes });
      const exempt = rate.ScopeDownStatement.NotStatement.Statement.OrStatement.Statements.map((statement: any) => statement.ByteMatchStatement);
      for (const match of exempt) {
        expect(match).toMatchObject({ FieldToMatch: { UriPath: {} }, PositionalConstraint: 'STARTS_WITH', TextTransformations: [{ Priority: 0, Type: 'NONE' }] });
      }
      // Behind a custom domain, and on the default endpoint, whose paths begin with the stage.
      expect(exempt.map((match: any) => match.SearchString).sort()).toEqual(['/network/', `/${stage}/network/`].sort());
      expect(rule.VisibilityConfig.CloudWatchMetricsEnabled).toBe(true);
    });
  });

  describe('alarm topic', () => {
    it('is encrypted with a rotating key of its own that CloudWatch may use to publish', () => {
      const { template } = stageOf(stage);
      const [[, topic]] = ofType(template, 'AWS::SNS::Topic') as [[string, any]];
      const key = resources(template)[referencedId(topic.KmsMasterKeyId)!]!;
      expect(key.Type).toBe('AWS::KMS::Key');
      expect(key.Properties.EnableKeyRotation).toBe(true);
      expect(key.Properties.Description).toMatch(/alarm notifications/);
      const forCloudWatch = key.Properties.KeyPolicy.Statement.filter((s: any) => s.Principal?.Service === 'cloudwatch.amazonaws.com');
      expect(forCloudWatch.flatMap((s: any) => [s.Action].flat()).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      if (stage === 'production') expect(resources(template)[referencedId(topic.KmsMasterKeyId)!]!.DeletionPolicy).toBe('Retain');
    });

    it("refuses publishing without TLS and accepts this account's alarms", () => {
      const { template } = stageOf(stage);
      const [[topicId]] = ofType(template, 'AWS::SNS::Topic') as [[string, any]];
      const [[, policy]] = ofType(template, 'AWS::SNS::TopicPolicy') as [[string, any]];
      expect(policy.Topics.map(referencedId)).toEqual([topicId]);
      expect(policy.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
      const allow = policy.PolicyDocument.Statement.find((s: any) => s.Effect === 'Allow');
      expect(allow).toMatchObject({ Action: 'sns:Publish', Principal: { Service: 'cloudwatch.amazonaws.com' } });
      expect(allow.Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
      expect(JSON.stringify(allow.Condition.ArnLike['aws:SourceArn'])).toContain(':alarm:*');
    });

    it('has no subscriber unless the stage names an alarm e-mail', () => {
      expect(config.alarmEmail).toBeUndefined();
      expect(ofType(stageOf(stage).template, 'AWS::SNS::Subscription')).toEqual([]);
    });

    it('is an output, as is the dashboard name', () => {
      const outputs = stageOf(stage).template.toJSON().Outputs;
      expect(referencedId(outputs.AlarmTopicArn.Value)).toBe(ofType(stageOf(stage).template, 'AWS::SNS::Topic')[0]![0]);
      expect(referencedId(outputs.DashboardName.Value)).toBe(ofType(stageOf(stage).template, 'AWS::CloudWatch::Dashboard')[0]![0]);
    });
  });

  describe('alarms', () => {
    it('notify the topic when they fire and when they clear, and treat no data as nothing wrong', () => {
      const [[topicId]] = ofType(stageOf(stage).template, 'AWS::SNS::Topic') as [[string, any]];
      const alarms = alarmsOf(stage);
      expect(alarms.size).toBeGreaterThan(15);
      for (const [name, alarm] of alarms) {
        expect(alarm.AlarmActions.map(referencedId), name).toEqual([topicId]);
        expect(alarm.OKActions.map(referencedId), name).toEqual([topicId]);
        expect(alarm.TreatMissingData, name).toBe('notBreaching');
        expect(alarm.AlarmDescription, name).toMatch(/Runbook: README\.md, "Operating the stack", [A-Za-z0-9 ]+\.$/);
      }
    });

    it('watch every dead-letter queue for any message', () => {
      const { stack } = stageOf(stage);
      const alarms = alarmsOf(stage);
      const deadLetterQueues: [string, any][] = [
        ...queues.map((row): [string, any] => [row.name, stack.queues.byName.get(row.name)!.deadLetterQueue]),
        ['stream', stack.streamDeadLetterQueue!],
      ];
      for (const [name, queue] of deadLetterQueues) {
        const alarm = alarms.get(`dead-letters-${name}`);
        expect(metricsOf(alarm), name).toEqual([
          { namespace: 'AWS/SQS', name: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: { 'Fn::GetAtt': [logicalIdOf(stage, queue), 'QueueName'] } }, stat: 'Maximum' },
        ]);
        expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, EvaluationPeriods: 1, Period: 60 });
      }
    });

    it('watch the age of the oldest undelivered message of each webhook queue', () => {
      const { stack } = stageOf(stage);
      for (const row of queues) {
        const alarm = alarmsOf(stage).get(`undelivered-${row.name}-age`);
        const queueId = logicalIdOf(stage, stack.queues.byName.get(row.name)!.queue);
        expect(metricsOf(alarm)).toEqual([
          { namespace: 'AWS/SQS', name: 'ApproximateAgeOfOldestMessage', dimensions: { QueueName: { 'Fn::GetAtt': [queueId, 'QueueName'] } }, stat: 'Maximum' },
        ]);
        expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: UNDELIVERED_AGE_LIMIT[row.name].toSeconds() });
      }
    });

    it("watch the outbox dispatcher's lag behind the table stream", () => {
      const alarm = alarmsOf(stage).get('stream-iterator-age');
      const [dispatcherId] = functionByDescription(stageOf(stage).template, 'Consumer of the table stream');
      expect(metricsOf(alarm)).toEqual([{ namespace: 'AWS/Lambda', name: 'IteratorAge', dimensions: { FunctionName: { Ref: dispatcherId } }, stat: 'Maximum' }]);
      expect(expressionOf(alarm)).toBe('MAX(METRICS())');
      expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 60_000 });
    });

    it.each(['Errors', 'Throttles'])('watch the %s of every function exactly once, per flow, at most 10 functions an alarm', (metric) => {
      const { template } = stageOf(stage);
      const prefix = metric === 'Errors' ? 'errors-' : 'throttles-';
      const watched: string[] = [];
      const flows = new Map<string, string[]>();
      for (const [name, alarm] of alarmsOf(stage)) {
        if (!name.startsWith(prefix)) continue;
        const metrics = metricsOf(alarm);
        expect(metrics.length, name).toBeLessThanOrEqual(10);
        expect(expressionOf(alarm), name).toBe('SUM(METRICS())');
        expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1 });
        for (const m of metrics) {
          expect(m, name).toMatchObject({ namespace: 'AWS/Lambda', name: metric, stat: 'Sum' });
          const functionId = referencedId(m.dimensions.FunctionName)!;
          watched.push(functionId);
          const flow = name.slice(prefix.length).replace(/-\d+$/, '');
          flows.set(flow, [...(flows.get(flow) ?? []), resources(template)[functionId]!.Properties.Description]);
        }
      }
      const functions = ofType(template, 'AWS::Lambda::Function').map(([id]) => id);
      expect(watched.sort()).toEqual(functions.sort());
      const routes = routesForStage(stage);
      expect(flows.get('network')!.sort()).toEqual(routes.filter((r) => r.credential === 'network').map((r) => `${r.method} ${r.path}`).sort());
      expect(flows.get('partner-api')!.sort()).toEqual(routes.filter((r) => r.credential === 'business').map((r) => `${r.method} ${r.path}`).sort());
      expect(flows.get('authorizers')!.sort()).toEqual(['Authorizer of business credentials', 'Authorizer of network credentials']);
      expect(flows.get('webhooks')!.length).toBe(consumers.length);
    });

    it('call the authorizers’ errors by their name', () => {
      expect(alarmsOf(stage).get('errors-authorizers').AlarmDescription).toMatch(/Authorizer errors\.$/);
    });

    it('watch the rate of 5xx answers of the API', () => {
      const alarm = alarmsOf(stage).get('api-5xx-rate');
      const metrics = metricsOf(alarm);
      expect(metrics.map((m) => m.name).sort()).toEqual(['5XXError', 'Count']);
      for (const m of metrics) expect(m).toMatchObject({ namespace: 'AWS/ApiGateway', dimensions: { ApiName: `card-platform-${stage}` }, stat: 'Sum' });
      expect(expressionOf(alarm)).toBe('IF(requests >= 10, 100 * errors / requests, 0)');
      expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 1 });
    });

    it('watch the p99 latency of the network authorization route, from its method-level metrics', () => {
      const alarm = alarmsOf(stage).get('network-authorization-p99');
      expect(metricsOf(alarm)).toEqual([
        {
          namespace: 'AWS/ApiGateway',
          name: 'Latency',
          dimensions: { ApiName: `card-platform-${stage}`, Stage: stage, Resource: '/network/authorizations', Method: 'POST' },
          stat: 'p99',
        },
      ]);
      expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: config.networkAuthorizationP99Ms, EvaluateLowSampleCountPercentile: 'ignore' });
      const [[, apiStage]] = ofType(stageOf(stage).template, 'AWS::ApiGateway::Stage') as [[string, any]];
      expect(apiStage.MethodSettings).toContainEqual(expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', MetricsEnabled: true }));
    });

    it.each([
      ['table-throttles', 'ThrottledRequests'],
      ['table-system-errors', 'SystemErrors'],
    ])('%s sums %s of the table over every operation the platform makes', (name, metric) => {
      const alarm = alarmsOf(stage).get(name);
      const [[tableId]] = ofType(stageOf(stage).template, 'AWS::DynamoDB::Table') as [[string, any]];
      expect(metricsOf(alarm)).toEqual(
        TABLE_OPERATIONS.map((operation) => ({ namespace: 'AWS/DynamoDB', name: metric, dimensions: { TableName: { Ref: tableId }, Operation: operation }, stat: 'Sum' })),
      );
      expect(expressionOf(alarm)).toBe('SUM(METRICS())');
      expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1 });
    });

    it("watch the account's KMS calls against their shared request quota", () => {
      const alarm = alarmsOf(stage).get('kms-request-rate');
      expect(metricsOf(alarm)).toEqual(
        KMS_OPERATIONS.map((operation) => ({ namespace: 'AWS/Usage', name: 'CallCount', dimensions: { Service: 'KMS', Type: 'API', Resource: operation, Class: 'None' }, stat: 'Sum' })),
      );
      expect(expressionOf(alarm)).toMatch(/^100 \* \(.*\) \/ PERIOD\(generatemac\) \/ SERVICE_QUOTA\(generatemac\)$/);
      expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 80 });
    });
  });

  describe('dashboard', () => {
    const body = () => {
      const [[, dashboard]] = ofType(stageOf(stage).template, 'AWS::CloudWatch::Dashboard') as [[string, any]];
      expect(dashboard.DashboardName).toBe(`CardPlatform-${stage}`);
      return dashboard.DashboardBody;
    };

    it('shows the state of every alarm', () => {
      const alarmIds = new Set(ofType(stageOf(stage).template, 'AWS::CloudWatch::Alarm').map(([id]) => id));
      const shown = [...referencedIds(body())].filter((id) => alarmIds.has(id));
      expect(new Set(shown)).toEqual(alarmIds);
    });

    it('graphs every function’s errors and throttles', () => {
      const functions = ofType(stageOf(stage).template, 'AWS::Lambda::Function').map(([id]) => id);
      for (const id of functions) expect(referencedIds(body()).has(id), id).toBe(true);
    });

    it(`graphs the business metrics of the ${BUSINESS_NAMESPACE} namespace, whatever their dimensions`, () => {
      // The body is JSON joined with references; its literal parts are enough here.
      const text = (body()['Fn::Join'][1] as unknown[]).filter((part) => typeof part === 'string').join('');
      for (const metric of Object.keys(BUSINESS_METRICS)) {
        expect(text, metric).toContain(`SEARCH('Namespace=\\"${BUSINESS_NAMESPACE}\\" MetricName=\\"${metric}\\"'`);
      }
    });
  });
});

describe('an alarm e-mail in the stage config', () => {
  it('subscribes that address to the alarm topic', () => {
    const stack = new Stack(new App(), 'AlarmEmail');
    new AlarmTopic(stack, 'AlarmTopic', { config: stageConfig('production', { alarmEmail: 'ops@example.com' }) });
    const subscriptions = ofType(Template.fromStack(stack), 'AWS::SNS::Subscription');
    expect(subscriptions.map(([, props]) => ({ Protocol: props.Protocol, Endpoint: props.Endpoint }))).toEqual([{ Protocol: 'email', Endpoint: 'ops@example.com' }]);
    expect(referencedId(subscriptions[0]![1].TopicArn)).toBe(ofType(Template.fromStack(stack), 'AWS::SNS::Topic')[0]![0]);
  });
});

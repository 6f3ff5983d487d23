/**
 * Operating a stage, as CloudFormation sees it: flows kept apart (reserved concurrency for the card
 * network, bounded webhook delivery, a per-IP rate limit that spares the network), an alarm on
 * every flow notifying one encrypted topic, a dashboard of the same, production releases that
 * reach 10% of traffic first and undo themselves when those alarms fire, and backups of the
 * production table.
 */
import { readFileSync } from 'node:fs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumers, queues, routesForStage, schedules } from '../../shared/routes.ts';
import { AlarmTopic } from '../../infra/constructs/alarm-topic.ts';
import { CanaryDeployments } from '../../infra/constructs/canary-deployments.ts';
import { REPO_ROOT } from '../../infra/constructs/bundling.ts';
import { KMS_OPERATIONS, RUNBOOK, TABLE_OPERATIONS, UNDELIVERED_AGE_LIMIT } from '../../infra/constructs/platform-alarms.ts';
import { BUSINESS_METRICS, BUSINESS_NAMESPACE } from '../../infra/constructs/platform-dashboard.ts';
import { RATE_LIMIT_RULE_NAME } from '../../infra/constructs/web-acl.ts';
import { stageConfig, type Stage } from '../../infra/stage-config.ts';
import {
  functionByDescription,
  invokedFunctionIds,
  methodsByRoute,
  ofType,
  referencedId,
  referencedIds,
  resources,
  statementsByRole,
  synthesize,
  type Synthesis,
  type Synthesized,
} from './support/synth.ts';

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

/** The logical id of a construct's resource, in the template of its own stack (root or nested). */
const logicalIdOf = (stage: Stage, construct: IConstruct) => {
  expect(stageOf(stage).templates.map((deployed) => deployed.stack)).toContain(Stack.of(construct));
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as never);
};

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
      expect(flows.get('network')!.sort()).toEqual(routes.filter((r) => r.credential === 'network' || r.credential === 'chain').map((r) => `${r.method} ${r.path}`).sort());
      expect(flows.get('partner-api')!.sort()).toEqual(routes.filter((r) => r.credential === 'business' || r.credential === 'public').map((r) => `${r.method} ${r.path}`).sort());
      expect(flows.get('authorizers')!.sort()).toEqual(['Authorizer of business credentials', 'Authorizer of chain credentials', 'Authorizer of network credentials']);
      expect(flows.get('webhooks')!.length).toBe(consumers.length + schedules.length);
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

    it(`graphs this stage's business metrics of the ${BUSINESS_NAMESPACE} namespace, whatever their other dimensions`, () => {
      // The body is JSON joined with references; its literal parts are enough here.
      const text = (body()['Fn::Join'][1] as unknown[]).filter((part) => typeof part === 'string').join('');
      for (const metric of Object.keys(BUSINESS_METRICS)) {
        const term = `Namespace=\\"${BUSINESS_NAMESPACE}\\" MetricName=\\"${metric}\\" stage=\\"${stage}\\"`;
        expect(text, metric).toContain(`SEARCH('${term}'`);
      }
      // The metrics' stage dimension is what the functions write (shared/metrics.ts: config STAGE).
      expect(text).not.toMatch(new RegExp(`stage=\\\\"(?!${stage})`));
    });
  });
});

describe.each(STAGES)('releasing new code on the %s stack', (stage) => {
  const config = stageConfig(stage);
  const canary = config.deployment.kind === 'canary';
  const aliases = () => ofType(stageOf(stage).template, 'AWS::Lambda::Alias');
  /** Every reference to a function that something invokes: integrations, authorizers, event sources. */
  const invocations = (): [string, unknown][] => {
    const { template } = stageOf(stage);
    return [
      ...[...methodsByRoute(template)].map(([route, method]): [string, unknown] => [route, method.Integration.Uri]),
      ...ofType(template, 'AWS::ApiGateway::Authorizer').map(([id, props]): [string, unknown] => [id, props.AuthorizerUri]),
      ...ofType(template, 'AWS::Lambda::EventSourceMapping').map(([id, props]): [string, unknown] => [id, props.FunctionName]),
      ...ofType(template, 'AWS::Lambda::Permission').map(([id, props]): [string, unknown] => [id, props.FunctionName]),
    ];
  };

  it(canary ? 'gives every function a live alias on its current version' : 'publishes no versions or aliases', () => {
    const { template } = stageOf(stage);
    const functions = ofType(template, 'AWS::Lambda::Function').map(([id]) => id);
    if (!canary) {
      expect(aliases()).toEqual([]);
      expect(ofType(template, 'AWS::Lambda::Version')).toEqual([]);
      return;
    }
    expect(aliases().map(([, props]) => referencedId(props.FunctionName)).sort()).toEqual(functions.sort());
    for (const [id, props] of aliases()) {
      expect(props.Name, id).toBe('live');
      const version = resources(template)[referencedId(props.FunctionVersion)!]!;
      expect(version.Type, id).toBe('AWS::Lambda::Version');
      expect(referencedId(version.Properties.FunctionName), id).toBe(referencedId(props.FunctionName));
    }
  });

  it(`makes API Gateway, the authorizers and the event sources invoke ${canary ? 'the live alias' : 'the function itself'}`, () => {
    const aliasIds = new Set(aliases().map(([id]) => id));
    const found = invocations();
    expect(found.length).toBeGreaterThan(60);
    for (const [name, reference] of found) {
      const referenced = [...referencedIds(reference)].filter((id) => resources(stageOf(stage).template)[id]?.Type.startsWith('AWS::Lambda::'));
      expect(referenced.length, name).toBe(1);
      expect(aliasIds.has(referenced[0]!), name).toBe(canary);
    }
  });

  it(canary ? 'shifts each alias by CodeDeploy canary, rolling back on its rollback alarms' : 'has no CodeDeploy deployment groups', () => {
    const { template, stack } = stageOf(stage);
    const groups = new Map(ofType(template, 'AWS::CodeDeploy::DeploymentGroup'));
    if (!canary) {
      expect(groups.size).toBe(0);
      return;
    }
    expect(groups.size).toBe(aliases().length);
    const alarmNames = new Map(ofType(template, 'AWS::CloudWatch::Alarm').map(([id, props]) => [id, props.AlarmName.replace(`CardPlatform-${stage}-`, '')]));
    const errorsAlarmWatching = (functionId: string) =>
      [...alarmNames].find(([id, name]) => name.startsWith('errors-') && metricsOf(resources(template)[id]!.Properties).some((m) => referencedId(m.dimensions.FunctionName) === functionId))![1];
    const seen = new Set<string>();
    for (const [aliasId] of aliases()) {
      const alias = resources(template)[aliasId]!;
      const update = (alias as any).UpdatePolicy.CodeDeployLambdaAliasUpdate;
      const groupId = referencedId(update.DeploymentGroupName)!;
      expect(seen.has(groupId), aliasId).toBe(false);
      seen.add(groupId);
      const group = groups.get(groupId);
      expect(group, aliasId).toMatchObject({
        DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
        DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
        AutoRollbackConfiguration: { Enabled: true, Events: expect.arrayContaining(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST']) },
      });
      expect(referencedId(update.ApplicationName)).toBe(referencedId(group.ApplicationName));
      expect(group.AlarmConfiguration.Enabled, aliasId).toBe(true);

      const functionId = referencedId(alias.Properties.FunctionName)!;
      const description = resources(template)[functionId]!.Properties.Description as string;
      const expected = [errorsAlarmWatching(functionId)];
      if (!description.startsWith('Consumer of') && !description.startsWith('Scheduled')) expected.push('api-5xx-rate');
      if (description === 'POST /network/authorizations') expected.push('network-authorization-p99');
      if (description === 'Consumer of the table stream') expected.push('stream-iterator-age');
      // A group names its alarms (the alarms read its function's metrics, so a nested stack cannot
      // reference them back): each name is that of an alarm of the stage.
      const named = group.AlarmConfiguration.Alarms.map((alarm: any) => alarm.Name as string);
      for (const name of named) expect([...alarmNames.values()].map((short) => `CardPlatform-${stage}-${short}`), description).toContain(name);
      const watched = named.map((name: string) => name.replace(`CardPlatform-${stage}-`, ''));
      expect(watched.sort(), description).toEqual(expected.sort());
    }
    expect(stack.deployments.reduce((count, deployments) => count + deployments.groups.size, 0)).toBe(groups.size);
    // One CodeDeploy application for the stage, whichever stack a group is in.
    expect(ofType(template, 'AWS::CodeDeploy::Application')).toHaveLength(1);
  });

  if (canary) it('lets CodeDeploy move only these aliases, with no AWS managed policy', () => {
    // A CodeDeploy role per stack (root: the authorizers; each nested stack: its functions), each
    // moving the aliases of its own groups; together they move every alias and nothing else.
    const { template, stack } = stageOf(stage);
    expect(stack.deployments.length).toBe(stageOf(stage).templates.length);
    const moved: string[] = [];
    for (const deployments of stack.deployments) {
      const roleId = logicalIdOf(stage, deployments.role);
      expect(resources(template)[roleId]!.Properties.ManagedPolicyArns).toBeUndefined();
      const statements = statementsByRole(template).get(roleId)!;
      const aliasMoves = statements.find((s) => [s.Action].flat().includes('lambda:UpdateAlias'))!;
      expect([aliasMoves.Action].flat().sort()).toEqual(['lambda:GetAlias', 'lambda:GetProvisionedConcurrencyConfig', 'lambda:UpdateAlias']);
      const movable = [aliasMoves.Resource].flat().map(referencedId) as string[];
      expect(movable.sort(), roleId).toEqual([...deployments.groups.keys()].map((alias) => logicalIdOf(stage, alias)).sort());
      moved.push(...movable);
      expect(statements.flatMap((s) => [s.Action].flat()).sort()).toEqual(['cloudwatch:DescribeAlarms', 'lambda:GetAlias', 'lambda:GetProvisionedConcurrencyConfig', 'lambda:UpdateAlias']);
    }
    expect(moved.sort()).toEqual(aliases().map(([id]) => id).sort());
  });
});

describe.each(STAGES)('backups of the %s table', (stage) => {
  const config = stageConfig(stage);
  const backupResources = () => Object.entries(resources(stageOf(stage).template)).filter(([, resource]) => resource.Type.startsWith('AWS::Backup::'));

  if (!config.tableBackups) it('are left to point-in-time recovery on a disposable stage', () => {
    expect(backupResources()).toEqual([]);
    expect(stageOf(stage).template.toJSON().Outputs.BackupVaultName).toBeUndefined();
  });

  if (config.tableBackups) it('go to a retained vault under a rotating key of its own, whose recovery points nobody may delete', () => {
    const { template } = stageOf(stage);
    const [[vaultId, vault]] = ofType(template, 'AWS::Backup::BackupVault') as [[string, any]];
    expect(resources(template)[vaultId]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(vault.BackupVaultName).toBe(`card-platform-${stage}-table`);
    const key = resources(template)[referencedId(vault.EncryptionKeyArn)!]!;
    expect(key).toMatchObject({ Type: 'AWS::KMS::Key', DeletionPolicy: 'Retain', Properties: { EnableKeyRotation: true, Description: expect.stringMatching(/table backups/) } });
    expect(vault.AccessPolicy.Statement).toEqual([
      { Effect: 'Deny', Principal: { AWS: '*' }, Action: ['backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle'], Resource: '*' },
    ]);
    expect(referencedId(stageOf(stage).template.toJSON().Outputs.BackupVaultName.Value)).toBe(vaultId);
  });

  if (config.tableBackups) it('back the table up daily, kept 35 days, and monthly, kept a year', () => {
    const { template } = stageOf(stage);
    const [[vaultId]] = ofType(template, 'AWS::Backup::BackupVault') as [[string, any]];
    const [[planId, plan]] = ofType(template, 'AWS::Backup::BackupPlan') as [[string, any]];
    expect(plan.BackupPlan.BackupPlanRule.map((rule: any) => ({ ...rule, TargetBackupVault: referencedId(rule.TargetBackupVault) }))).toEqual([
      { RuleName: 'Daily', ScheduleExpression: 'cron(0 3 * * ? *)', Lifecycle: { DeleteAfterDays: 35 }, TargetBackupVault: vaultId },
      { RuleName: 'Monthly', ScheduleExpression: 'cron(0 3 1 * ? *)', Lifecycle: { DeleteAfterDays: 365 }, TargetBackupVault: vaultId },
    ]);
    const [[, selection]] = ofType(template, 'AWS::Backup::BackupSelection') as [[string, any]];
    expect(referencedId(selection.BackupPlanId)).toBe(planId);
    const [[tableId]] = ofType(template, 'AWS::DynamoDB::Table') as [[string, any]];
    expect(selection.BackupSelection.Resources).toEqual([{ 'Fn::GetAtt': [tableId, 'Arn'] }]);
  });

  if (config.tableBackups) it('let AWS Backup back up and expire this table’s backups only, with no AWS managed policy and no restore rights', () => {
    const { template, stack } = stageOf(stage);
    const [[, selection]] = ofType(template, 'AWS::Backup::BackupSelection') as [[string, any]];
    const roleId = referencedId(selection.BackupSelection.IamRoleArn)!;
    expect(roleId).toBe(logicalIdOf(stage, stack.backups!.role));
    const role = resources(template)[roleId]!.Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    const statements = statementsByRole(template).get(roleId)!;
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual([
      'dynamodb:CreateBackup',
      'dynamodb:DeleteBackup',
      'dynamodb:DescribeBackup',
      'dynamodb:DescribeTable',
      'dynamodb:ListTagsOfResource',
      'dynamodb:StartAwsBackupJob',
      'kms:CreateGrant',
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:GenerateDataKey',
    ]);
    expect(actions.some((action) => action.includes('Restore'))).toBe(false);
    const [[tableId]] = ofType(template, 'AWS::DynamoDB::Table') as [[string, any]];
    for (const statement of statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')))) {
      expect(referencedIds(statement.Resource)).toEqual(new Set([tableId]));
    }
    const grant = statements.find((s) => [s.Action].flat().includes('kms:CreateGrant'))!;
    expect(grant.Condition).toEqual({ Bool: { 'kms:GrantIsForAWSResource': 'true' } });
    const tableKeyUse = statements.find((s) => [s.Action].flat().includes('kms:Decrypt'))!;
    expect(tableKeyUse.Condition).toEqual({ StringLike: { 'kms:ViaService': 'dynamodb.*.amazonaws.com' } });
  });
});

describe('a deploy with rollbackAlarms=ignore', () => {
  it('still shifts traffic gradually, without watching the alarms', () => {
    const config = stageConfig('production', { rollbackAlarms: 'ignore' });
    expect(config.deployment).toMatchObject({ kind: 'canary', rollbackAlarms: 'ignore' });
    const stack = new Stack(new App(), 'IgnoreAlarms');
    const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=()=>{}'), timeout: Duration.seconds(3) });
    const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
    const alarm = new cw.Alarm(stack, 'Errors', { metric: fn.metricErrors(), threshold: 1, evaluationPeriods: 1 });
    new CanaryDeployments(stack, 'Deployments', { trafficShift: 'CANARY_10PERCENT_5MINUTES', rollbackAlarms: 'ignore', deployments: [{ id: 'Fn', alias, rollbackAlarmNames: [alarm.alarmName] }] });
    const [[, group]] = ofType(Template.fromStack(stack), 'AWS::CodeDeploy::DeploymentGroup') as [[string, any]];
    expect(group.DeploymentConfigName).toBe('CodeDeployDefault.LambdaCanary10Percent5Minutes');
    expect(group.AlarmConfiguration.Enabled).toBe(false);
  });

  it('is refused on a stage that deploys all at once', () => {
    expect(() => stageConfig('sandbox', { rollbackAlarms: 'ignore' })).toThrow(/deploys all at once/);
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

describe('the README', () => {
  const readme = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');
  const operating = readme.slice(readme.indexOf('## Operating the stack'));
  const runbook = new Set([...operating.matchAll(/^#### (.+)$/gm)].map((match) => match[1]));

  it('has a runbook entry for every kind of alarm', () => {
    expect(readme).toContain('## Operating the stack');
    for (const entry of Object.values(RUNBOOK)) expect(runbook.has(entry), entry).toBe(true);
  });

  it.each(STAGES)("lists every alarm of the %s stack and names an existing runbook entry in each alarm's description", (stage) => {
    for (const [name, alarm] of alarmsOf(stage)) {
      expect(operating, name).toContain(`\`${name.replace(/-\d+$/, '-1…n')}\``);
      const entry = /"Operating the stack", (.+)\.$/.exec(alarm.AlarmDescription)?.[1];
      expect(runbook.has(entry!), `${name}: ${entry}`).toBe(true);
    }
  });

  it('shows every npm run admin command', () => {
    const cli = readFileSync(`${REPO_ROOT}/infra/admin/cli.ts`, 'utf8');
    // The usage text is built from each command's synopsis (COMMAND_USAGE in cli.ts).
    const commands = [...cli.matchAll(/synopsis: '([a-z-]+)/g)].map((match) => match[1]);
    expect(commands).toEqual(expect.arrayContaining(['redrive', 'audit']));
    for (const command of commands) expect(readme, command).toContain(`npm run admin -- ${command}`);
  });
});

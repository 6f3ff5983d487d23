/**
 * The generic wiring of the `queues`, `consumers` and `schedules` tables, on representative rows:
 * each queue with its DLQ, a filtered stream consumer that sends to queues and never gives up on
 * a record, a queue consumer, and a scheduled function.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes, type ConsumerRow, type QueueRow, type ScheduleRow } from '../../shared/routes.ts';
import { parameterNames } from '../../infra/stage-config.ts';
import {
  actionsOf,
  functionByDescription,
  invokedFunctionIds,
  nagFindings,
  ofType,
  referencedId,
  referencedIds,
  resources,
  statementsOfFunction,
  synthesize,
  type Synthesis,
  type Synthesized,
} from './support/synth.ts';

const QUEUES: QueueRow[] = [
  { name: 'otp', consumerTimeoutSeconds: 20, maxReceiveCount: 5 },
  { name: 'events', consumerTimeoutSeconds: 30, maxReceiveCount: 8 },
];
const DISPATCHER: ConsumerRow = {
  handler: '../test/infra/fixtures/stream-consumer',
  source: { kind: 'stream', filter: { attribute: 'PK', beginsWith: 'EVENT#' } },
  batchSize: 25,
  access: { table: 'readWrite', sendTo: ['otp', 'events'] },
};
const OTP_DELIVERY: ConsumerRow = {
  handler: '../test/infra/fixtures/queue-consumer',
  source: { kind: 'queue', queue: 'otp' },
  batchSize: 5,
  access: { table: 'readWrite', macs: ['otp'], decrypt: ['webhook-secret'] },
};

const SCHEDULED: ScheduleRow = {
  handler: '../test/infra/fixtures/scheduled-run',
  everyMinutes: 5,
  timeoutSeconds: 45,
  access: { table: 'readWrite', sendTo: ['events'] },
};

let synthesis: Synthesis;
let platform: Synthesized;

beforeAll(() => {
  synthesis = synthesize({
    queues: {
      stage: 'production',
      // One route keeps the API valid while bundling stays small.
      tables: { routes: routes.slice(0, 1), queues: QUEUES, consumers: [DISPATCHER, OTP_DELIVERY], schedules: [SCHEDULED] },
    },
  });
  platform = synthesis.stacks.queues!;
});
afterAll(() => synthesis?.dispose());

function queueNamed(name: string): [string, any] {
  const pair = platform.stack.queues.byName.get(name as QueueRow['name'])!;
  const id = platform.stack.getLogicalId(pair.queue.node.defaultChild as never);
  return [id, resources(platform.template)[id]!.Properties];
}

function eventSourceOf(functionId: string): any {
  const found = ofType(platform.template, 'AWS::Lambda::EventSourceMapping').filter(([, props]) => invokedFunctionIds(platform.template, props.FunctionName).has(functionId));
  expect(found.length).toBe(1);
  return found[0]![1];
}

describe('queues', () => {
  it.each(QUEUES)('gives the $name queue a DLQ after maxReceiveCount receives', (row) => {
    const [, queue] = queueNamed(row.name);
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(row.maxReceiveCount);
    const deadLetterId = referencedId(queue.RedrivePolicy.deadLetterTargetArn)!;
    expect(resources(platform.template)[deadLetterId]!.Type).toBe('AWS::SQS::Queue');
  });

  it.each(QUEUES)("sets the $name queue's visibility timeout to six times its consumer's timeout", (row) => {
    expect(queueNamed(row.name)[1].VisibilityTimeout).toBe(row.consumerTimeoutSeconds * 6);
  });

  it('encrypts every queue at rest and refuses requests without TLS', () => {
    const queues = ofType(platform.template, 'AWS::SQS::Queue');
    expect(queues.length).toBe(QUEUES.length * 2 + 1);
    const policies = ofType(platform.template, 'AWS::SQS::QueuePolicy');
    for (const [id, props] of queues) {
      expect(props.SqsManagedSseEnabled, id).toBe(true);
      const policy = policies.find(([, p]) => p.Queues.some((q: unknown) => referencedId(q) === id));
      expect(policy, id).toBeDefined();
      expect(policy![1].PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('publishes every queue and DLQ URL for the admin CLI', () => {
    const names = parameterNames('production');
    const published = ofType(platform.template, 'AWS::SSM::Parameter').map(([, props]) => props.Name);
    for (const row of QUEUES) expect(published).toEqual(expect.arrayContaining([names.queueUrl(row.name), names.queueDlqUrl(row.name)]));
    expect(published).toContain(names.streamDlqUrl);
  });
});

describe('a stream consumer', () => {
  it('reads the table stream from the oldest record, bisecting failed batches and reporting item failures', () => {
    const [functionId] = functionByDescription(platform.template, 'Consumer of the table stream');
    const mapping = eventSourceOf(functionId);
    const [[tableId]] = ofType(platform.template, 'AWS::DynamoDB::Table') as [[string, any]];
    expect(mapping.EventSourceArn).toEqual({ 'Fn::GetAtt': [tableId, 'StreamArn'] });
    expect(mapping).toMatchObject({
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: DISPATCHER.batchSize,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('never gives up on a record: retries without end, and no record is too old to retry', () => {
    const [functionId] = functionByDescription(platform.template, 'Consumer of the table stream');
    expect(eventSourceOf(functionId)).toMatchObject({ MaximumRetryAttempts: -1, MaximumRecordAgeInSeconds: -1 });
  });

  it('keeps the stream DLQ as its on-failure destination (never written with these settings; where old records stay visible)', () => {
    const [functionId] = functionByDescription(platform.template, 'Consumer of the table stream');
    const destination = eventSourceOf(functionId).DestinationConfig.OnFailure.Destination;
    const streamDlqId = platform.stack.getLogicalId(platform.stack.streamDeadLetterQueue!.node.defaultChild as never);
    expect(referencedId(destination)).toBe(streamDlqId);
  });

  it("is invoked only for new items the row's filter selects", () => {
    const [functionId] = functionByDescription(platform.template, 'Consumer of the table stream');
    const [filter] = eventSourceOf(functionId).FilterCriteria.Filters;
    expect(JSON.parse(filter.Pattern)).toEqual({ eventName: ['INSERT'], dynamodb: { NewImage: { PK: { S: [{ prefix: 'EVENT#' }] } } } });
  });

  it('may send to exactly the queues its row names (and its on-failure DLQ), and knows their URLs', () => {
    const [functionId, fn] = functionByDescription(platform.template, 'Consumer of the table stream');
    const sends = statementsOfFunction(platform.template, functionId).filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    const targets = new Set(sends.flatMap((s) => [...referencedIds(s.Resource)]));
    // Lambda writes a failed batch's description to the on-failure destination with the function's role.
    const streamDlqId = platform.stack.getLogicalId(platform.stack.streamDeadLetterQueue!.node.defaultChild as never);
    expect(targets).toEqual(new Set([...QUEUES.map((row) => queueNamed(row.name)[0]), streamDlqId]));
    expect(referencedId(fn.Environment.Variables.OTP_QUEUE_URL)).toBe(queueNamed('otp')[0]);
    expect(referencedId(fn.Environment.Variables.EVENTS_QUEUE_URL)).toBe(queueNamed('events')[0]);
  });

  it('cannot decrypt with the data key outside DynamoDB (its row does not ask to)', () => {
    const [functionId] = functionByDescription(platform.template, 'Consumer of the table stream');
    const direct = statementsOfFunction(platform.template, functionId).filter((s) => !s.Condition && actionsOf(s).includes('kms:Decrypt'));
    expect(direct).toEqual([]);
  });
});

describe('a queue consumer', () => {
  it("reads its queue in the row's batches, reporting item failures, with the queue row's timeout", () => {
    const [functionId, fn] = functionByDescription(platform.template, 'Consumer of the otp queue');
    const mapping = eventSourceOf(functionId);
    expect(referencedId(mapping.EventSourceArn)).toBe(queueNamed('otp')[0]);
    expect(mapping).toMatchObject({ BatchSize: OTP_DELIVERY.batchSize, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    expect(fn.Timeout).toBe(20);
  });
});

describe('a scheduled function', () => {
  const describedAs = 'Scheduled every 5 minutes: ../test/infra/fixtures/scheduled-run';

  it("is invoked by an EventBridge rule at the row's rate, with the row's timeout", () => {
    const [functionId, fn] = functionByDescription(platform.template, describedAs);
    expect(fn.Timeout).toBe(SCHEDULED.timeoutSeconds);
    const rules = ofType(platform.template, 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED' });
    expect(rule.Targets).toHaveLength(1);
    expect(invokedFunctionIds(platform.template, rule.Targets[0].Arn)).toEqual(new Set([functionId]));
    // A missed run is not worth more than its period: the next run does its work.
    expect(rule.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 });
    const permissions = ofType(platform.template, 'AWS::Lambda::Permission').filter(([, props]) => invokedFunctionIds(platform.template, props.FunctionName).has(functionId));
    expect(permissions.map(([, props]) => [props.Principal, referencedId(props.SourceArn)])).toEqual([['events.amazonaws.com', rules[0]![0]]]);
  });

  it("may send to exactly the queues its row names, and knows their URLs", () => {
    const [functionId, fn] = functionByDescription(platform.template, describedAs);
    const sends = statementsOfFunction(platform.template, functionId).filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    expect(new Set(sends.flatMap((s) => [...referencedIds(s.Resource)]))).toEqual(new Set([queueNamed('events')[0]]));
    expect(referencedId(fn.Environment.Variables.EVENTS_QUEUE_URL)).toBe(queueNamed('events')[0]);
    expect(fn.Environment.Variables.OTP_QUEUE_URL).toBeUndefined();
  });
});

it('has no unacknowledged cdk-nag error or warning with queues, consumers and schedules', () => {
  expect(nagFindings(platform.stack)).toEqual([]);
});

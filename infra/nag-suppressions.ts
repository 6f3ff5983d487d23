/**
 * Every cdk-nag finding the stack accepts, with the reason. Findings are fixed in the constructs
 * wherever that is possible (managed instead of inline policies, no AWS managed policies, explicit
 * KMS key policies, encrypted log groups with retention, WAF, DLQs, ...); this file is the short
 * list of what is left and why. cdk-nag 3 records these as CDK validation acknowledgments, and each
 * is attached to the narrowest constructs it concerns, never to the whole stack. The packs walk the
 * whole construct tree, the nested function stacks included (constructs/function-stacks.ts), and
 * the constructs below are found there too.
 */
import { Validations } from 'aws-cdk-lib';
import type { Method } from 'aws-cdk-lib/aws-apigateway';
import * as events from 'aws-cdk-lib/aws-events';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import type { CardPlatformStack } from './card-platform-stack.ts';
import { PlatformFunction } from './constructs/platform-function.ts';

interface Acknowledgment {
  ids: string[];
  reason: string;
  on: (stack: CardPlatformStack) => IConstruct[];
}

/** The methods of public rows (`credential: 'public'`), which API Gateway serves with no authorizer. */
function publicMethodsOf(stack: CardPlatformStack): Method[] {
  const publicRoutes = new Set([...stack.http.routeFunctions.keys()].filter((row) => row.credential === 'public').map((row) => `${row.method} ${row.path}`));
  return stack.http.api.methods.filter((method) => publicRoutes.has(`${method.httpMethod} ${method.resource.path}`));
}

const functionsOf = (stack: CardPlatformStack) => stack.node.findAll().filter((c): c is PlatformFunction => c instanceof PlatformFunction);

export const ACKNOWLEDGMENTS: Acknowledgment[] = [
  {
    ids: ['AwsSolutions-L1', 'Serverless-LambdaLatestVersion'],
    reason:
      'The runtime is pinned to nodejs22.x to match the Node major every test runs on (node@22 in package.json); ' +
      'both move to the next LTS together, never the runtime alone.',
    on: functionsOf,
  },
  {
    ids: ['Serverless-LambdaDLQ'],
    reason:
      'A Lambda DLQ only catches asynchronous invocations. API Gateway invokes route and authorizer functions ' +
      'synchronously, and event-source mappings deliver failures to their own DLQs (stream on-failure destination, ' +
      'SQS redrive). The only asynchronous ones are scheduled runs (the webhook sweeper), whose failed run is redone ' +
      'by the next run a minute later: a parked run event would hold nothing to redrive.',
    on: functionsOf,
  },
  {
    ids: ['Serverless-EventBusDLQ'],
    reason:
      'The schedule rules invoke idempotent periodic runs; a run EventBridge could not invoke is superseded by the ' +
      'next one, which finds the same work, so a DLQ of missed run events would hold nothing to redrive.',
    on: (stack) => stack.node.findAll().filter((c) => c instanceof events.Rule),
  },
  {
    ids: ['PCI.DSS.321-LambdaInsideVPC'],
    reason:
      'Functions have no inbound network path (only the Lambda Invoke API, by API Gateway and event sources) and reach ' +
      'AWS services over TLS with IAM-signed requests; card data is guarded by IAM, KMS key use and the ' +
      'encryption context, not by network placement. A VPC would add NAT egress for webhook delivery and interface ' +
      'endpoints without narrowing that access. Revisit if egress filtering (PCI DSS 1.3.4) is required.',
    on: functionsOf,
  },
  {
    ids: ['AwsSolutions-IAM5[Resource::*]'],
    reason:
      'Only actions without resource-level permissions use Resource "*": xray:PutTraceSegments and ' +
      'xray:PutTelemetryRecords (active tracing) and dynamodb:ListStreams (stream event sources). ' +
      'test/infra asserts no other action is granted on "*".',
    on: (stack) => functionsOf(stack).map((fn) => fn.role),
  },
  {
    ids: ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:API-Gateway-Execution-Logs_*]'],
    reason:
      "API Gateway's CloudWatch role is one per account and region, shared by every REST API there; it may write only " +
      'to log groups named API-Gateway-Execution-Logs_<api id>/<stage>, which is what the wildcard spells.',
    on: (stack) => [stack.http.account.role],
  },
  {
    ids: ['AwsSolutions-IAM5[Resource::*]'],
    reason:
      "CodeDeploy reads the rollback alarms' states with cloudwatch:DescribeAlarms, which has no resource-level " +
      'permissions; every other action of the role names the live aliases of its own stack one by one.',
    on: (stack) => stack.deployments.map((deployments) => deployments.role),
  },
  {
    ids: ['AwsSolutions-IAM5[Resource::<DataTableFDBAD0F2.Arn>/backup/*]'],
    reason:
      'DynamoDB names each backup when it is made (table/<name>/backup/<id>); AWS Backup may describe and expire only ' +
      "this table's backups, which is what the wildcard spells.",
    on: (stack) => (stack.backups ? [stack.backups.role] : []),
  },
  {
    ids: ['AwsSolutions-COG4'],
    reason:
      'Partners authenticate with API keys and the card network with its own credential (API.md), checked by the ' +
      'Lambda REQUEST authorizers on every method; there are no end users to sign in through Cognito.',
    // The methods live with their functions in the area stacks, outside the API's construct tree.
    on: (stack) => [stack.http.api, ...stack.http.api.methods],
  },
  {
    ids: ['AwsSolutions-APIG4', 'AwsSolutions-COG4'],
    reason:
      'The API description (GET /docs, the reference page) is public by the contract (API.md "API description"): ' +
      'it describes the routes and carries no business data, and its function has no table, key or queue access.',
    on: publicMethodsOf,
  },
  {
    ids: ['PCI.DSS.321-APIGWCacheEnabledAndEncrypted'],
    reason:
      'No method may be cached: responses are per business, money-moving or carry card data (GET /v1/cards/{id}/full ' +
      'is no-store); a cache would serve stale balances and keep secrets in another store.',
    on: (stack) => [stack.http.api.deploymentStage],
  },
  {
    ids: ['PCI.DSS.321-APIGWSSLEnabled'],
    reason:
      'The rule asks for a client certificate, which authenticates API Gateway to HTTP backends; every integration ' +
      'here is a Lambda proxy invoked with SigV4. Clients reach the API over TLS only (API Gateway has no plain-HTTP endpoint).',
    on: (stack) => [stack.http.api.deploymentStage],
  },
  {
    ids: ['Serverless-SQSRedrivePolicy'],
    reason: 'Dead-letter queues are the end of the line: messages park there for inspection and an admin redrive.',
    on: (stack) => stack.deadLetterQueues(),
  },
  {
    ids: ['AwsSolutions-SQS3'],
    reason: "The stream DLQ is the stream event sources' on-failure destination, i.e. a dead-letter queue itself.",
    on: (stack) => (stack.streamDeadLetterQueue ? [stack.streamDeadLetterQueue] : []),
  },
  {
    ids: ['Serverless-LambdaEventSourceMappingDestination'],
    reason:
      'SQS event sources cannot have on-failure destinations; a message that keeps failing moves to the ' +
      "queue's DLQ by its redrive policy (maxReceiveCount).",
    on: (stack) =>
      [...stack.consumerFunctions]
        .filter(([row]) => row.source.kind === 'queue')
        .flatMap(([, fn]) => fn.node.findAll().filter((c) => c instanceof EventSourceMapping)),
  },
];

export function applyNagSuppressions(stack: CardPlatformStack): void {
  for (const acknowledgment of ACKNOWLEDGMENTS) {
    for (const construct of acknowledgment.on(stack)) {
      for (const id of acknowledgment.ids) Validations.of(construct).acknowledge({ id, reason: acknowledgment.reason });
    }
  }
}

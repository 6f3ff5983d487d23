/**
 * The stack of each stage, as CloudFormation sees it: one function and one authorized method per
 * route row, the single table, the keys, the API stage's logging and protections, least-privilege
 * roles, and no unacknowledged cdk-nag finding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizers, consumers, queues, routes, routesForStage, schedules, type RouteRow } from '../../shared/routes.ts';
import { consumerTimeout } from '../../infra/constructs/consumers.ts';
import { scheduleDescription } from '../../infra/constructs/schedules.ts';
import { TABLE_SCHEMA } from '../../shared/db/table-schema.ts';
import { ERROR_RESPONSES } from '../../infra/constructs/gateway-responses.ts';
import { NETWORK_ALLOW_LIST_RULE } from '../../infra/constructs/web-acl.ts';
import { parameterNames, type Stage } from '../../infra/stage-config.ts';
import {
  actionsOf,
  allStatements,
  functionByDescription,
  invokedFunctionIds,
  methodsByRoute,
  nagFindings,
  ofType,
  referencedId,
  referencedIds,
  resources,
  statementsByRole,
  statementsOfFunction,
  synthesize,
  type PolicyStatement,
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

const routeKey = (row: RouteRow) => `${row.method} ${row.path}`;
const unconditioned = (statements: PolicyStatement[], action: string) =>
  statements.some((s) => s.Effect === 'Allow' && !s.Condition && actionsOf(s).includes(action));
const allowed = (statements: PolicyStatement[], action: string) => statements.some((s) => s.Effect === 'Allow' && actionsOf(s).includes(action));
/** The sealed-secret purposes a function may use `action` on directly (envelope encryption), if any. */
const envelopePurposes = (statements: PolicyStatement[], action: string): string[] | undefined => {
  const grant = statements.find((s) => s.Effect === 'Allow' && actionsOf(s).includes(action) && s.Condition?.StringEquals?.['kms:EncryptionContext:purpose']);
  const purposes = grant?.Condition?.StringEquals?.['kms:EncryptionContext:purpose'];
  return purposes === undefined ? undefined : [purposes].flat().sort();
};

/** The keyed-hash purposes whose KMS HMAC key the statements let a function `GenerateMac` with. */
const macPurposes = (template: Synthesized['template'], statements: PolicyStatement[]): string[] => {
  const purposes = statements
    .filter((s) => s.Effect === 'Allow' && actionsOf(s).includes('kms:GenerateMac'))
    .flatMap((s) => [...referencedIds(s.Resource)])
    .map((id) => /HMAC key of the "([a-z-]+)" keyed hashes/.exec(resources(template)[id]?.Properties?.Description ?? '')?.[1] ?? `not a MAC key: ${id}`);
  return purposes.sort();
};

describe.each(STAGES)('the %s stack', (stage) => {
  describe('routes', () => {
    it('deploys exactly the route rows of the stage as API methods', () => {
      const deployed = [...methodsByRoute(stageOf(stage).template).keys()].sort();
      expect(deployed).toEqual(routesForStage(stage).map(routeKey).sort());
    });

    it('gives every route row its own function, invoked by its method', () => {
      const { template } = stageOf(stage);
      const methods = methodsByRoute(template);
      for (const row of routesForStage(stage)) {
        const [functionId] = functionByDescription(template, routeKey(row));
        const integration = methods.get(routeKey(row)).Integration;
        expect(integration.Type, routeKey(row)).toBe('AWS_PROXY');
        expect(invokedFunctionIds(template, integration.Uri), routeKey(row)).toEqual(new Set([functionId]));
      }
    });

    it("guards every method with the Lambda authorizer of the row's credential", () => {
      const { template } = stageOf(stage);
      const methods = methodsByRoute(template);
      const authorizerOf = new Map<string, string>();
      for (const credential of Object.keys(authorizers)) {
        const fn = functionByDescriptionOrUndefined(template, `Authorizer of ${credential} credentials`);
        if (!fn) continue;
        const invoking = ofType(template, 'AWS::ApiGateway::Authorizer').filter(([, props]) => invokedFunctionIds(template, props.AuthorizerUri).has(fn[0]));
        expect(invoking.length, credential).toBe(1);
        authorizerOf.set(credential, invoking[0]![0]);
      }
      for (const row of routesForStage(stage)) {
        const method = methods.get(routeKey(row));
        // A public row (the API description) is the one kind of method without an authorizer.
        if (row.credential === 'public') {
          expect(method.AuthorizationType, routeKey(row)).toBe('NONE');
          continue;
        }
        expect(method.AuthorizationType, routeKey(row)).toBe('CUSTOM');
        expect(referencedId(method.AuthorizerId), routeKey(row)).toBe(authorizerOf.get(row.credential));
      }
      // One authorizer per kind (business, card network, chain watcher): API Gateway caches each
      // one's verdict per key, so the network key's Allow can never answer for /network/deposits.
      expect(new Set(authorizerOf.values()).size).toBe(3);
      const guard = (route: string) => referencedId(methods.get(route).AuthorizerId);
      expect(guard('POST /network/deposits')).toBe(authorizerOf.get('chain'));
      expect(guard('POST /network/authorizations')).toBe(authorizerOf.get('network'));
    });

    it('uses REQUEST authorizers keyed and cached on the Authorization header for five minutes', () => {
      const found = ofType(stageOf(stage).template, 'AWS::ApiGateway::Authorizer');
      expect(found.length).toBeGreaterThan(0);
      for (const [, props] of found) {
        expect(props).toMatchObject({
          Type: 'REQUEST',
          IdentitySource: 'method.request.header.Authorization',
          AuthorizerResultTtlInSeconds: 300,
        });
      }
    });

    it('declares the path parameters of every method as required', () => {
      const methods = methodsByRoute(stageOf(stage).template);
      for (const row of routesForStage(stage)) {
        const expected = Object.fromEntries([...row.path.matchAll(/\{([^}]+)\}/g)].map((m) => [`method.request.path.${m[1]}`, true]));
        expect(methods.get(routeKey(row)).RequestParameters ?? {}, routeKey(row)).toEqual(expected);
        expect(methods.get(routeKey(row)).RequestValidatorId, routeKey(row)).toBeDefined();
      }
    });
  });

  describe('functions', () => {
    it('run nodejs22.x on arm64 with active tracing, 1024 MB and an explicit timeout', () => {
      const functions = ofType(stageOf(stage).template, 'AWS::Lambda::Function');
      expect(functions.length).toBe(routesForStage(stage).length + new Set(routesForStage(stage).flatMap((r) => (r.credential === 'public' ? [] : [r.credential]))).size + consumers.length + schedules.length);
      const consumerTimeouts = new Map([
        ...consumers.map((row): [string, number] => [`Consumer of ${row.source.kind === 'stream' ? 'the table stream' : `the ${row.source.queue} queue`}`, consumerTimeout(row, queues).toSeconds()]),
        ...schedules.map((row): [string, number] => [scheduleDescription(row), row.timeoutSeconds]),
      ]);
      for (const [id, props] of functions) {
        expect(props, id).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          MemorySize: 1024,
          Timeout: consumerTimeouts.get(props.Description) ?? 10,
          Handler: 'index.handler',
        });
      }
    });

    it('get the configuration shared/config.ts reads, with KMS keys', () => {
      const { template } = stageOf(stage);
      for (const [id, props] of ofType(template, 'AWS::Lambda::Function')) {
        const variables = props.Environment.Variables;
        expect(variables, id).toMatchObject({
          STAGE: stage,
          KEY_SOURCE: 'kms',
          CARD_BIN: '356772',
          POWERTOOLS_SERVICE_NAME: 'card-platform',
          NODE_OPTIONS: '--enable-source-maps',
        });
        expect(resources(template)[referencedId(variables.TABLE_NAME)!]!.Type, id).toBe('AWS::DynamoDB::Table');
        expect(resources(template)[referencedId(variables.KMS_KEY_ARN)!]!.Type, id).toBe('AWS::KMS::Key');
        expect(variables.HMAC_SECRET_ARN, id).toBeUndefined();
      }
    });

    it('never let webhooks reach private addresses: only the local stack sets WEBHOOK_PRIVATE_ADDRESSES', () => {
      const { template } = stageOf(stage);
      for (const [id, props] of ofType(template, 'AWS::Lambda::Function')) {
        expect(props.Environment.Variables, id).not.toHaveProperty('WEBHOOK_PRIVATE_ADDRESSES');
      }
      expect(JSON.stringify(template)).not.toContain('WEBHOOK_PRIVATE_ADDRESSES');
    });

    it('log as JSON to their own encrypted log group with a retention period', () => {
      const { template } = stageOf(stage);
      for (const [id, props] of ofType(template, 'AWS::Lambda::Function')) {
        expect(props.LoggingConfig.LogFormat, id).toBe('JSON');
        const logGroup = resources(template)[referencedId(props.LoggingConfig.LogGroup)!]!;
        expect(logGroup.Properties.RetentionInDays, id).toBe(stage === 'production' ? 365 : 30);
        expect(logGroup.Properties.KmsKeyId, id).toBeDefined();
      }
    });
  });

  describe('least privilege', () => {
    it('grants no Allow statement an action with a wildcard, anywhere in the template', () => {
      const wildcards = allStatements(stageOf(stage).template)
        .filter(({ statement }) => statement.Effect === 'Allow')
        .flatMap(({ resourceId, statement }) => actionsOf(statement).filter((a) => a.includes('*')).map((a) => `${resourceId}: ${a}`));
      expect(wildcards).toEqual([]);
    });

    it('grants "*" resources only for actions that have no resource-level permissions', () => {
      const onEverything = allStatements(stageOf(stage).template)
        .filter(({ type, statement }) => type !== 'AWS::KMS::Key' && statement.Effect === 'Allow' && statement.Resource === '*')
        .flatMap(({ statement }) => actionsOf(statement));
      // dynamodb:ListStreams (the stream event source of the outbox dispatcher) and
      // cloudwatch:DescribeAlarms (CodeDeploy's rollback alarms, production only) have no resource-level form.
      const expected = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'dynamodb:ListStreams'];
      expect(new Set(onEverything)).toEqual(new Set(stage === 'production' ? [...expected, 'cloudwatch:DescribeAlarms'] : expected));
    });

    it('uses no inline policies and no AWS managed policies', () => {
      const { template } = stageOf(stage);
      expect(ofType(template, 'AWS::IAM::Policy')).toEqual([]);
      for (const [id, props] of ofType(template, 'AWS::IAM::Role')) {
        expect(props.Policies, id).toBeUndefined();
        expect(props.ManagedPolicyArns, id).toBeUndefined();
      }
    });

    it("gives each route function exactly its row's table, key and secret access", () => {
      const { template } = stageOf(stage);
      for (const row of routesForStage(stage)) {
        const [functionId] = functionByDescription(template, routeKey(row));
        const statements = statementsOfFunction(template, functionId);
        const name = routeKey(row);
        expect(allowed(statements, 'dynamodb:Query'), name).toBe(row.access.table !== 'none');
        expect(allowed(statements, 'dynamodb:PutItem'), name).toBe(row.access.table === 'readWrite');
        // A POST may release its idempotency marker after a failure; nothing else deletes (nor a
        // POST that keeps no answer: `idempotent: false`).
        expect(allowed(statements, 'dynamodb:DeleteItem'), name).toBe(row.method === 'POST' && row.operation.idempotent !== false);
        expect(allowed(statements, 'dynamodb:Scan'), name).toBe(false);
        expect(unconditioned(statements, 'kms:GenerateDataKey'), name).toBe(false);
        expect(unconditioned(statements, 'kms:Decrypt'), name).toBe(false);
        expect(envelopePurposes(statements, 'kms:GenerateDataKey'), name).toEqual(row.access.encrypt ? [...row.access.encrypt].sort() : undefined);
        expect(envelopePurposes(statements, 'kms:Decrypt'), name).toEqual(row.access.decrypt ? [...row.access.decrypt].sort() : undefined);
        expect(allowed(statements, 'secretsmanager:GetSecretValue'), name).toBe(false);
        expect(macPurposes(template, statements), name).toEqual([...(row.access.macs ?? [])].sort());
        expect(unconditioned(statements, 'kms:VerifyMac') || allowed(statements, 'kms:VerifyMac'), name).toBe(false);
        expect(allowed(statements, 'sqs:SendMessage'), name).toBe((row.access.sendTo ?? []).length > 0);
        // Operator settings live in SSM on production only (operator-settings.test.ts has the parameters).
        expect(allowed(statements, 'ssm:GetParameter'), name).toBe(stage === 'production' && (row.access.settings ?? []).length > 0);
      }
    });

    it('gives the card-number MAC key only to the rows that find a card by its number or issue one', () => {
      const { template } = stageOf(stage);
      const withPanKey = routesForStage(stage)
        .filter((row) => macPurposes(template, statementsOfFunction(template, functionByDescription(template, routeKey(row))[0])).includes('pan'))
        .map(routeKey)
        .sort();
      expect(withPanKey).toEqual(['POST /network/3ds/challenges', 'POST /network/authorizations', 'POST /network/refunds', 'POST /network/settlements', 'POST /v1/cards']);
      for (const [kind, authorizer] of Object.entries(authorizers)) expect(authorizer.access.macs, kind).toEqual(['credential']);
      for (const row of consumers) expect(row.access.macs ?? [], row.handler).toEqual([]);
    });

    it('lets only the full-details route and the reveal page decrypt card bundles, and only they and the link issuer use the reveal-token key', () => {
      const { template } = stageOf(stage);
      const rowsWith = (test: (statements: PolicyStatement[]) => boolean) =>
        routesForStage(stage)
          .filter((row) => test(statementsOfFunction(template, functionByDescription(template, routeKey(row))[0])))
          .map(routeKey)
          .sort();
      expect(rowsWith((statements) => envelopePurposes(statements, 'kms:Decrypt')?.includes('card') ?? false)).toEqual(['GET /v1/card-reveal', 'GET /v1/cards/{id}/full']);
      expect(rowsWith((statements) => macPurposes(template, statements).includes('reveal'))).toEqual(['GET /v1/card-reveal', 'POST /v1/cards/{id}/reveal-sessions']);
      for (const row of [...consumers, ...schedules]) expect(row.access.decrypt ?? [], row.handler).not.toContain('card');
    });

    it('creates one KMS HMAC key per keyed-hash purpose, usable only through MAC operations', () => {
      const keys = ofType(stageOf(stage).template, 'AWS::KMS::Key').filter(([, props]) => props.KeySpec === 'HMAC_256');
      expect(keys.map(([, props]) => /"([a-z-]+)"/.exec(props.Description)?.[1]).sort()).toEqual(
        ['credential', 'cursor', 'ekyc', 'idempotency', 'otp', 'pan', 'reveal'],
      );
      for (const [id, props] of keys) {
        expect(props.KeyUsage, id).toBe('GENERATE_VERIFY_MAC');
        const actions = (props.KeyPolicy.Statement as PolicyStatement[]).filter((s) => s.Sid === 'KeyUseThroughIam').flatMap(actionsOf);
        expect(actions.sort(), id).toEqual(['kms:GenerateMac', 'kms:VerifyMac']);
      }
    });

    it('lets functions use the data key only through DynamoDB and Secrets Manager, or directly for the sealed purposes their row lists', () => {
      const { template } = stageOf(stage);
      for (const row of routesForStage(stage)) {
        const [functionId] = functionByDescription(template, routeKey(row));
        for (const statement of statementsOfFunction(template, functionId)) {
          if (!actionsOf(statement).some((a) => a.startsWith('kms:') && a !== 'kms:GenerateMac')) continue;
          const condition = JSON.stringify(statement.Condition ?? {});
          expect(condition, routeKey(row)).toMatch(/kms:ViaService.*(dynamodb|secretsmanager)\.|kms:EncryptionContext:purpose/);
        }
      }
    });
  });

  describe('append-only records', () => {
    // Ledger postings and card audit events live under these partition prefixes (shared/db/keys.ts);
    // IAM conditions can see only the partition key.
    const APPEND_ONLY = ['CARD_AUDIT#*', 'POSTING#*'];
    const DELETABLE = ['IDEMPOTENCY#*'];
    const BATCH_OR_PARTIQL_WRITES = ['dynamodb:BatchWriteItem', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'];
    const TABLE_WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', ...BATCH_OR_PARTIQL_WRITES];
    const leadingKeys = (condition: Record<string, any> | undefined, operator: string): string[] | undefined => {
      const values = condition?.[operator]?.['dynamodb:LeadingKeys'];
      return values === undefined ? undefined : [values].flat().sort();
    };
    const tableId = () => ofType(stageOf(stage).template, 'AWS::DynamoDB::Table')[0]![0];

    it('lets no role write the table in batches or through PartiQL, which would bypass the per-item grants', () => {
      const granted = allStatements(stageOf(stage).template)
        .filter(({ statement }) => statement.Effect === 'Allow')
        .flatMap(({ resourceId, statement }) => actionsOf(statement).filter((a) => BATCH_OR_PARTIQL_WRITES.includes(a)).map((a) => `${resourceId}: ${a}`));
      expect(granted).toEqual([]);
    });

    it('denies UpdateItem and DeleteItem on postings and audit events to every role that can write the table', () => {
      const writers = [...statementsByRole(stageOf(stage).template)].filter(([, statements]) =>
        statements.some((s) => s.Effect === 'Allow' && actionsOf(s).some((a) => TABLE_WRITES.includes(a))),
      );
      const writeRows = [...routesForStage(stage), ...consumers, ...schedules].filter((row) => row.access.table === 'readWrite');
      expect(writers.length).toBe(writeRows.length);
      for (const [roleId, statements] of writers) {
        const deny = statements.find(
          (s) => s.Effect === 'Deny' && ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'].every((a) => actionsOf(s).includes(a)) && referencedIds(s.Resource).has(tableId()),
        );
        expect(deny, roleId).toBeDefined();
        // Any further condition would be ANDed in and narrow the deny.
        expect(Object.keys(deny!.Condition ?? {}), roleId).toEqual(['ForAnyValue:StringLike']);
        expect(leadingKeys(deny!.Condition, 'ForAnyValue:StringLike'), roleId).toEqual(APPEND_ONLY);
      }
    });

    it('allows DeleteItem only on idempotency markers, and only to the POST routes that release them', () => {
      const { template } = stageOf(stage);
      const deletes = allStatements(template).filter(({ statement }) => statement.Effect === 'Allow' && actionsOf(statement).includes('dynamodb:DeleteItem'));
      expect(deletes.length).toBeGreaterThan(0);
      for (const { resourceId, statement } of deletes) {
        const limitedTo = leadingKeys(statement.Condition, 'ForAllValues:StringLike');
        expect(limitedTo, resourceId).toBeDefined();
        expect(limitedTo!.every((prefix) => DELETABLE.includes(prefix)), resourceId).toBe(true);
        // ForAllValues holds for a request without the key; the Null check requires it.
        expect(statement.Condition!.Null, resourceId).toEqual({ 'dynamodb:LeadingKeys': 'false' });
      }
      const deleters = ofType(template, 'AWS::Lambda::Function')
        .filter(([id]) => allowed(statementsOfFunction(template, id), 'dynamodb:DeleteItem'))
        .map(([id]) => id)
        .sort();
      const postRoutes = routesForStage(stage)
        .filter((row) => row.method === 'POST' && row.operation.idempotent !== false)
        .map((row) => functionByDescription(template, routeKey(row))[0]);
      expect(deleters).toEqual(postRoutes.sort());
    });
  });

  describe('table', () => {
    it('has the keys, indexes, TTL and stream of shared/db/table-schema.ts', () => {
      const [[, table]] = ofType(stageOf(stage).template, 'AWS::DynamoDB::Table') as [[string, any]];
      expect(table.KeySchema).toEqual([
        { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
      ]);
      expect(table.GlobalSecondaryIndexes).toEqual(
        TABLE_SCHEMA.globalIndexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      );
      for (const name of ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'GSI3PK', 'GSI3SK', 'GSI4PK', 'GSI4SK']) {
        expect(table.AttributeDefinitions).toContainEqual({ AttributeName: name, AttributeType: 'S' });
      }
      // Point-in-time recovery is also the repair for an append-only record overwritten by a raw
      // Put, which IAM cannot forbid (infra/constructs/access.ts).
      expect(table).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
        TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.timeToLiveAttribute, Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      });
    });

    it("has the sweeper's sparse index of undelivered events, whole items projected so a sweep needs no second read", () => {
      const [[, table]] = ofType(stageOf(stage).template, 'AWS::DynamoDB::Table') as [[string, any]];
      expect(table.GlobalSecondaryIndexes).toContainEqual({
        IndexName: 'GSI3',
        KeySchema: [
          { AttributeName: 'GSI3PK', KeyType: 'HASH' },
          { AttributeName: 'GSI3SK', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      });
    });

    it("has the hold-expiry sweeper's sparse index of holds by expiry time", () => {
      const [[, table]] = ofType(stageOf(stage).template, 'AWS::DynamoDB::Table') as [[string, any]];
      expect(table.GlobalSecondaryIndexes).toContainEqual({
        IndexName: 'GSI4',
        KeySchema: [
          { AttributeName: 'GSI4PK', KeyType: 'HASH' },
          { AttributeName: 'GSI4SK', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      });
    });

    it('is encrypted with the customer-managed data key', () => {
      const { template } = stageOf(stage);
      const [[, table]] = ofType(template, 'AWS::DynamoDB::Table') as [[string, any]];
      const keyId = referencedId(table.SSESpecification.KMSMasterKeyId)!;
      expect(resources(template)[keyId]!.Type).toBe('AWS::KMS::Key');
      expect(resources(template)[keyId]!.Properties!.Description).toMatch(/envelope encryption/);
    });
  });

  describe('keys and secrets', () => {
    it('rotates every symmetric KMS key (KMS cannot rotate HMAC keys: those are versioned by alias)', () => {
      const keys = ofType(stageOf(stage).template, 'AWS::KMS::Key');
      const symmetric = keys.filter(([, props]) => props.KeySpec === undefined || props.KeySpec === 'SYMMETRIC_DEFAULT');
      // The data key, the logs key, the alarm topic's key and, where the table is backed up, the vault's.
      expect(symmetric.map(([, props]) => props.Description.replace(/^Card platform \(\w+\): /, '')).sort()).toEqual([
        'CloudWatch Logs encryption',
        'alarm notifications',
        'envelope encryption of card and eKYC data, and the table',
        ...(stage === 'production' ? ['table backups'] : []),
      ]);
      for (const [id, props] of symmetric) expect(props.EnableKeyRotation, id).toBe(true);
      const aliases = ofType(stageOf(stage).template, 'AWS::KMS::Alias').map(([, props]) => props.AliasName as string);
      expect(aliases.filter((alias) => alias.includes('-mac-')).sort()).toEqual(
        ['credential', 'cursor', 'ekyc', 'idempotency', 'otp', 'pan', 'reveal'].map((purpose) => `alias/card-platform-${stage}-mac-${purpose}-v1`),
      );
    });

    it('names the data key per stage', () => {
      const aliases = ofType(stageOf(stage).template, 'AWS::KMS::Alias').map(([, props]) => props.AliasName);
      expect(aliases).toContain(`alias/card-platform-${stage}-data`);
    });

    it('keeps no key material in Secrets Manager: every keyed hash is a KMS MAC', () => {
      expect(ofType(stageOf(stage).template, 'AWS::SecretsManager::Secret')).toEqual([]);
    });
  });

  describe('API stage', () => {
    it('is named after the stage, traced, throttled, and logs errors without request data', () => {
      const [[, apiStage]] = ofType(stageOf(stage).template, 'AWS::ApiGateway::Stage') as [[string, any]];
      expect(apiStage.StageName).toBe(stage);
      expect(apiStage.TracingEnabled).toBe(true);
      expect(apiStage.MethodSettings).toEqual([
        expect.objectContaining({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          ThrottlingRateLimit: expect.any(Number),
          ThrottlingBurstLimit: expect.any(Number),
        }),
      ]);
    });

    it("takes usage plan keys from the business authorizer, and throttles each business by the stage's default plan", () => {
      const { template } = stageOf(stage);
      const [[, restApi]] = ofType(template, 'AWS::ApiGateway::RestApi') as [[string, any]];
      expect(restApi.ApiKeySourceType).toBe('AUTHORIZER');
      const [[, plan]] = ofType(template, 'AWS::ApiGateway::UsagePlan') as [[string, any]];
      expect(plan.UsagePlanName).toBe(`card-platform-${stage}-business-default`);
      expect(plan.Throttle).toEqual({ RateLimit: expect.any(Number), BurstLimit: expect.any(Number) });
      expect(plan.ApiStages).toEqual([expect.objectContaining({ Stage: expect.anything() })]);
      // Enforced on the partner API only: the card network and the chain watcher have no usage key.
      const methods = methodsByRoute(template);
      for (const row of routesForStage(stage)) {
        expect(methods.get(routeKey(row))?.ApiKeyRequired === true, routeKey(row)).toBe(row.credential === 'business');
      }
      expect(ofType(template, 'AWS::SSM::Parameter').map(([, props]) => props.Name)).toContain(parameterNames(stage).defaultUsagePlanId);
    });

    it('writes one JSON access-log line per request, without headers or bodies', () => {
      const { template } = stageOf(stage);
      const [[, apiStage]] = ofType(template, 'AWS::ApiGateway::Stage') as [[string, any]];
      const format = JSON.parse(apiStage.AccessLogSetting.Format);
      expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', businessId: '$context.authorizer.businessId' });
      expect(apiStage.AccessLogSetting.Format).not.toMatch(/body|header|\$input/i);
      expect(resources(template)[referencedId(apiStage.AccessLogSetting.DestinationArn)!]!.Type).toBe('AWS::Logs::LogGroup');
    });

    it('renders gateway errors in the API.md error shape with x-request-id', () => {
      const responses = new Map(ofType(stageOf(stage).template, 'AWS::ApiGateway::GatewayResponse').map(([, props]) => [props.ResponseType, props]));
      for (const type of ['UNAUTHORIZED', 'ACCESS_DENIED', 'DEFAULT_4XX', 'DEFAULT_5XX']) {
        const response = responses.get(type);
        expect(response, type).toBeDefined();
        const body = JSON.parse(response.ResponseTemplates['application/json']);
        expect(body.error, type).toEqual({ code: expect.any(String), message: expect.any(String), request_id: '$context.requestId' });
        expect(response.ResponseParameters['gatewayresponse.header.x-request-id'], type).toBe('context.requestId');
      }
      // An unknown or revoked key: the authorizer throws, the gateway answers 401.
      expect(responses.get('UNAUTHORIZED').StatusCode).toBe('401');
      expect(JSON.parse(responses.get('UNAUTHORIZED').ResponseTemplates['application/json']).error.code).toBe('unauthorized');
      // A valid key of another kind: the authorizer denies, naming the kind the route needs in its context.
      expect(responses.get('ACCESS_DENIED').StatusCode).toBe('403');
      expect(JSON.parse(responses.get('ACCESS_DENIED').ResponseTemplates['application/json']).error).toEqual({
        code: '$context.authorizer.errorCode',
        message: '$context.authorizer.errorMessage',
        request_id: '$context.requestId',
      });
      expect(responses.size).toBe(ERROR_RESPONSES.length);
    });

    it('is behind a WAF web ACL whose logs redact the Authorization header', () => {
      const { template } = stageOf(stage);
      const [[apiStageId]] = ofType(template, 'AWS::ApiGateway::Stage') as [[string, any]];
      const [[webAclId, webAcl]] = ofType(template, 'AWS::WAFv2::WebACL') as [[string, any]];
      expect(webAcl.Scope).toBe('REGIONAL');
      expect(webAcl.Rules.map((rule: any) => rule.Statement.ManagedRuleGroupStatement?.Name)).toContain('AWSManagedRulesCommonRuleSet');
      const [[, association]] = ofType(template, 'AWS::WAFv2::WebACLAssociation') as [[string, any]];
      expect(referencedIds(association.ResourceArn)).toContain(apiStageId);
      expect(referencedId(association.WebACLArn)).toBe(webAclId);
      const [[, logging]] = ofType(template, 'AWS::WAFv2::LoggingConfiguration') as [[string, any]];
      expect(logging.RedactedFields).toEqual([{ SingleHeader: { Name: 'authorization' } }, { QueryString: {} }]);
    });

    it('keeps the token of a reveal link out of traces and logs: untraced route, no query string logged anywhere', () => {
      const { template } = stageOf(stage);
      const secretRoutes = routesForStage(stage).filter((row) => row.operation.secretInUrl);
      expect(secretRoutes.map(routeKey)).toEqual(['GET /v1/card-reveal']);
      const rules = ofType(template, 'AWS::XRay::SamplingRule').map(([, props]) => props.SamplingRule);
      for (const row of secretRoutes) {
        // The token is a query parameter, not a path segment: access logs name the path only.
        expect(row.path, routeKey(row)).not.toContain('{');
        expect(row.operation.query?.shape, routeKey(row)).toHaveProperty('token');
        // X-Ray segments of API Gateway record the whole URL: this route is never sampled.
        const rule = rules.find((candidate: any) => candidate.HTTPMethod === row.method && candidate.URLPath === `*${row.path}*`);
        expect(rule, routeKey(row)).toMatchObject({ FixedRate: 0, ReservoirSize: 0, Priority: 1, Host: '*', ServiceName: '*' });
      }
      const [[, apiStage]] = ofType(template, 'AWS::ApiGateway::Stage') as [[string, any]];
      const variables = [...String(apiStage.AccessLogSetting.Format).matchAll(/\$context\.[A-Za-z.]+/g)].map((match) => match[0]);
      expect(variables.filter((variable) => /path/i.test(variable)).sort()).toEqual(['$context.path', '$context.resourcePath']);
      expect(variables.filter((variable) => /query|requestOverride|input/i.test(variable))).toEqual([]);
      expect(apiStage.MethodSettings).toEqual(expect.arrayContaining([expect.objectContaining({ DataTraceEnabled: false, LoggingLevel: 'ERROR' })]));
    });

    it('restricts /network/... to no addresses when the stage lists none (test/infra/network-allow-list.test.ts: when it does)', () => {
      const { template } = stageOf(stage);
      const [[, webAcl]] = ofType(template, 'AWS::WAFv2::WebACL') as [[string, any]];
      expect(webAcl.Rules.map((rule: any) => rule.Name)).not.toContain(NETWORK_ALLOW_LIST_RULE);
      expect(ofType(template, 'AWS::WAFv2::IPSet')).toEqual([]);
    });
  });

  describe('webhook pipeline', () => {
    const queueId = (name: string) => {
      const pair = stageOf(stage).stack.queues.byName.get(name as never)!;
      return stageOf(stage).stack.getLogicalId(pair.queue.node.defaultChild as never);
    };
    const consumerOf = (source: string) => functionByDescription(stageOf(stage).template, `Consumer of ${source}`);

    it("parks each webhook queue's messages in its DLQ after the receives its retry schedule needs", () => {
      for (const row of queues) {
        const props = resources(stageOf(stage).template)[queueId(row.name)]!.Properties;
        expect(props.RedrivePolicy.maxReceiveCount, row.name).toBe(row.maxReceiveCount);
        expect(props.VisibilityTimeout, row.name).toBe(row.consumerTimeoutSeconds * 6);
      }
    });

    it('feeds the outbox (new EVENT# items) to the dispatcher; only it and the sweeper may send to the webhook queues', () => {
      const template = stageOf(stage).template;
      const [dispatcherId] = consumerOf('the table stream');
      const [sweeperId] = functionByDescription(template, 'Scheduled every 1 minute: webhooks/sweep-undelivered-events');
      const webhookQueues = new Set(queues.map((row) => queueId(row.name)));
      const senders = ofType(template, 'AWS::Lambda::Function')
        .filter(([id]) =>
          statementsOfFunction(template, id).some((s) => actionsOf(s).includes('sqs:SendMessage') && [...referencedIds(s.Resource)].some((ref) => webhookQueues.has(ref))),
        )
        .map(([id]) => id);
      expect(senders.sort()).toEqual([dispatcherId, sweeperId].sort());
      const [mapping] = ofType(template, 'AWS::Lambda::EventSourceMapping').filter(([, props]) => invokedFunctionIds(template, props.FunctionName).has(dispatcherId));
      expect(JSON.parse(mapping![1].FilterCriteria.Filters[0].Pattern)).toEqual({ eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: [{ prefix: 'event' }] } } } });
      expect(unconditioned(statementsOfFunction(template, dispatcherId), 'kms:Decrypt')).toBe(false);
    });

    it('reads the stream without ever giving up on a record: unlimited retries and record age, bisected batches, item failures reported', () => {
      const template = stageOf(stage).template;
      const [dispatcherId] = consumerOf('the table stream');
      const [mapping] = ofType(template, 'AWS::Lambda::EventSourceMapping').filter(([, props]) => invokedFunctionIds(template, props.FunctionName).has(dispatcherId));
      expect(mapping![1]).toMatchObject({
        StartingPosition: 'TRIM_HORIZON',
        MaximumRetryAttempts: -1,
        MaximumRecordAgeInSeconds: -1,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('runs the webhook sweeper every minute, able to read the index, record generations and send to both webhook queues', () => {
      const template = stageOf(stage).template;
      expect(schedules.map((row) => [row.handler, row.everyMinutes])).toEqual([
        ['webhooks/sweep-undelivered-events', 1],
        ['transactions/expire-holds', 5],
      ]);
      const [sweeperId, fn] = functionByDescription(template, 'Scheduled every 1 minute: webhooks/sweep-undelivered-events');
      const rules = ofType(template, 'AWS::Events::Rule').filter(([, rule]) => rule.Targets.some((target: any) => invokedFunctionIds(template, target.Arn).has(sweeperId)));
      expect(rules.map(([, rule]) => rule.ScheduleExpression)).toEqual(['rate(1 minute)']);
      expect(fn.Timeout).toBe(60);
      const statements = statementsOfFunction(template, sweeperId);
      expect(allowed(statements, 'dynamodb:Query')).toBe(true);
      expect(allowed(statements, 'dynamodb:UpdateItem')).toBe(true);
      const sends = statements.filter((s) => actionsOf(s).includes('sqs:SendMessage'));
      expect(new Set(sends.flatMap((s) => [...referencedIds(s.Resource)]))).toEqual(new Set(queues.map((row) => queueId(row.name))));
      // The index it queries is among the table resources its role names.
      const indexGrants = statements.filter((s) => actionsOf(s).includes('dynamodb:Query')).flatMap((s) => [s.Resource].flat());
      expect(JSON.stringify(indexGrants)).toContain('/index/GSI3');
    });

    it('runs the hold-expiry sweeper every 5 minutes, able to query the expiry index and commit expiries, and send to no queue', () => {
      const template = stageOf(stage).template;
      const [sweeperId, fn] = functionByDescription(template, 'Scheduled every 5 minutes: transactions/expire-holds');
      const rules = ofType(template, 'AWS::Events::Rule').filter(([, rule]) => rule.Targets.some((target: any) => invokedFunctionIds(template, target.Arn).has(sweeperId)));
      expect(rules.map(([, rule]) => rule.ScheduleExpression)).toEqual(['rate(5 minutes)']);
      expect(fn.Timeout).toBe(300);
      expect(JSON.parse(fn.Environment.Variables.HOLD_EXPIRY_DAYS)).toEqual({ defaultDays: 7, daysByMcc: { '7011': 30, '7512': 30 } });
      // Every function is told whether new B2B holds go on escrow shards (off in production until the upgrade deploy is done).
      expect(fn.Environment.Variables.ESCROW_HOLDS).toBe(stage === 'production' ? 'off' : 'on');
      expect(fn.Environment.Variables.WRITE_FORMAT).toBe(stage === 'production' ? 'release2' : 'release3');
      const statements = statementsOfFunction(template, sweeperId);
      expect(allowed(statements, 'dynamodb:Query')).toBe(true);
      expect(allowed(statements, 'dynamodb:PutItem')).toBe(true);
      expect(statements.filter((s) => actionsOf(s).includes('sqs:SendMessage'))).toEqual([]);
      const indexGrants = statements.filter((s) => actionsOf(s).includes('dynamodb:Query')).flatMap((s) => [s.Resource].flat());
      expect(JSON.stringify(indexGrants)).toContain('/index/GSI4');
    });

    it('consumes each webhook queue with one delivery function that reports partial failures and may open secrets and sealed codes', () => {
      const template = stageOf(stage).template;
      for (const row of queues) {
        const [functionId, fn] = consumerOf(`the ${row.name} queue`);
        const mappings = ofType(template, 'AWS::Lambda::EventSourceMapping').filter(([, props]) => invokedFunctionIds(template, props.FunctionName).has(functionId));
        expect(mappings.map(([, props]) => referencedId(props.EventSourceArn))).toEqual([queueId(row.name)]);
        expect(mappings[0]![1].FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
        expect(fn.Timeout).toBe(row.consumerTimeoutSeconds);
        const statements = statementsOfFunction(template, functionId);
        expect(envelopePurposes(statements, 'kms:Decrypt'), row.name).toEqual(row.name === 'otp' ? ['otp', 'webhook-secret'] : ['webhook-secret']);
        expect(allowed(statements, 'sqs:ChangeMessageVisibility'), row.name).toBe(true);
      }
    });
  });

  describe('outputs for operators', () => {
    it('publishes the table, keys and API URL as SSM parameters for the admin CLI', () => {
      const names = parameterNames(stage);
      const published = ofType(stageOf(stage).template, 'AWS::SSM::Parameter').map(([, props]) => props.Name);
      expect(published).toEqual(expect.arrayContaining([names.tableName, names.kmsKeyArn, names.macKeyArn('pan'), names.macKeyArn('credential'), names.apiUrl]));
    });

    it('outputs the API URL, table name and stage', () => {
      const outputs = stageOf(stage).template.toJSON().Outputs;
      expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'TableName', 'Stage']));
      expect(outputs.Stage.Value).toBe(stage);
    });
  });

  it('has no unacknowledged cdk-nag error or warning (AWS Solutions, Serverless, PCI DSS 3.2.1)', () => {
    expect(nagFindings(stageOf(stage).stack)).toEqual([]);
  });
});

describe('stage differences', () => {
  it('deploys sandbox-only rows on sandbox and never on production', () => {
    const sandboxMethods = methodsByRoute(stageOf('sandbox').template);
    const productionMethods = methodsByRoute(stageOf('production').template);
    expect(sandboxMethods.size).toBe(routes.length);
    for (const row of routes.filter((r) => r.sandboxOnly)) {
      expect(sandboxMethods.has(routeKey(row))).toBe(true);
      expect(productionMethods.has(routeKey(row))).toBe(false);
    }
    expect(productionMethods.size).toBe(routes.filter((r) => !r.sandboxOnly).length);
  });

  it('retains the production table, keys and secret and protects the table from deletion', () => {
    const all = resources(stageOf('production').template);
    for (const type of ['AWS::DynamoDB::Table', 'AWS::KMS::Key', 'AWS::SecretsManager::Secret']) {
      for (const resource of Object.values(all).filter((r) => r.Type === type)) {
        expect(resource.DeletionPolicy, type).toBe('Retain');
        expect(resource.UpdateReplacePolicy, type).toBe('Retain');
      }
    }
    const [[, table]] = ofType(stageOf('production').template, 'AWS::DynamoDB::Table') as [[string, any]];
    expect(table.DeletionProtectionEnabled).toBe(true);
  });

  it('lets a sandbox be torn down', () => {
    const all = resources(stageOf('sandbox').template);
    const table = Object.values(all).find((r) => r.Type === 'AWS::DynamoDB::Table')!;
    expect(table.DeletionPolicy).toBe('Delete');
    expect(table.Properties!.DeletionProtectionEnabled).toBe(false);
  });
});

function functionByDescriptionOrUndefined(template: Synthesized['template'], description: string): [string, any] | undefined {
  const found = ofType(template, 'AWS::Lambda::Function').filter(([, props]) => props.Description === description);
  return found[0];
}

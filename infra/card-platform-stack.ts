/**
 * The whole platform on one stage, built from the tables of shared/routes.ts: one function and
 * one API method per route row, one function and event source per consumer row, one queue (and
 * DLQ) per queue row. Adding an endpoint is a row, not a change here.
 *
 * Each function, with its role, log group and release resources, lives in the nested stack of its
 * area (constructs/function-stacks.ts), so no template nears CloudFormation's resource limit; data,
 * keys, the API and everything shared stay in this root stack.
 *
 * The stack is environment-agnostic and does no lookups, so `cdk synth` works offline.
 */
import { join } from 'node:path';
import { CfnOutput, CfnParameter, Duration, Stack, Stage, Tags, type StackProps } from 'aws-cdk-lib';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import * as routeTable from '../shared/routes.ts';
import type { ConsumerRow, QueueRow, RouteRow, ScheduleRow } from '../shared/routes.ts';
import type { OperatorSetting } from '../shared/services/operator-settings.ts';
import { grantAccess, type OperatorSettingSource, type PlatformResources } from './constructs/access.ts';
import { attachEventSource, consumerTimeout } from './constructs/consumers.ts';
import type { FunctionFactory } from './constructs/function-factory.ts';
import { areaOfRoute, FunctionStack, FunctionStacks, PIPELINE_AREA } from './constructs/function-stacks.ts';
import { pascal } from './constructs/naming.ts';
import { PlatformApi } from './constructs/platform-api.ts';
import { NETWORK_AUTHORIZATION_HANDLER } from './constructs/bundle-budgets.ts';
import { type BundlingMode, prebundle } from './constructs/bundling.ts';
import { PlatformFunction } from './constructs/platform-function.ts';
import { PlatformKeys } from './constructs/platform-keys.ts';
import { PlatformTable } from './constructs/platform-table.ts';
import { AlarmTopic } from './constructs/alarm-topic.ts';
import { CanaryDeployments } from './constructs/canary-deployments.ts';
import { PlatformAlarms, type WatchedFunction } from './constructs/platform-alarms.ts';
import { PlatformDashboard } from './constructs/platform-dashboard.ts';
import { deadLetterQueue, PlatformQueues } from './constructs/queues.ts';
import { attachSchedule, scheduleDescription } from './constructs/schedules.ts';
import { TableBackups } from './constructs/table-backups.ts';
import { UntracedRoutes } from './constructs/untraced-routes.ts';
import { ApiWebAcl } from './constructs/web-acl.ts';
import { applyNagSuppressions } from './nag-suppressions.ts';
import { parameterNames, type StageConfig } from './stage-config.ts';

/** The rows the stack is built from; tests may substitute some to exercise generic wiring. */
export interface PlatformTables {
  routes: readonly RouteRow[];
  authorizers: typeof routeTable.authorizers;
  queues: readonly QueueRow[];
  consumers: readonly ConsumerRow[];
  schedules: readonly ScheduleRow[];
}

export interface CardPlatformStackProps extends StackProps {
  config: StageConfig;
  /** `release` (default) ships minified bundles with source maps; `fast` is for template tests. */
  bundling?: BundlingMode;
  /** Defaults to shared/routes.ts, with the routes of `config.stage`. */
  tables?: Partial<PlatformTables>;
}

export class CardPlatformStack extends Stack {
  readonly config: StageConfig;
  readonly keys: PlatformKeys;
  readonly data: PlatformTable;
  readonly queues: PlatformQueues;
  readonly http: PlatformApi;
  readonly consumerFunctions = new Map<ConsumerRow, PlatformFunction>();
  readonly scheduledFunctions = new Map<ScheduleRow, PlatformFunction>();
  /** Failures of the table-stream consumers; only exists when a consumer reads the stream. */
  readonly streamDeadLetterQueue?: sqs.Queue;
  readonly alarmTopic: AlarmTopic;
  readonly alarms: PlatformAlarms;
  readonly dashboard: PlatformDashboard;
  /** The nested stacks of the functions, one per area. */
  readonly functionStacks: FunctionStacks;
  /**
   * CodeDeploy traffic shifts, on a stage that deploys by canary: the authorizers' in this stack,
   * then each function stack's own (one application for the stage).
   */
  readonly deployments: CanaryDeployments[] = [];
  /** AWS Backup of the table, on a stage that keeps backups. */
  readonly backups?: TableBackups;

  constructor(scope: Construct, id: string, props: CardPlatformStackProps) {
    super(scope, id, { description: `Card-issuing platform (${props.config.stage})`, ...props });
    const config = (this.config = props.config);
    const tables: PlatformTables = {
      routes: routeTable.routesForStage(config.stage),
      authorizers: routeTable.authorizers,
      queues: routeTable.queues,
      consumers: routeTable.consumers,
      schedules: routeTable.schedules,
      ...props.tables,
    };
    Tags.of(this).add('service', 'card-platform');
    Tags.of(this).add('stage', config.stage);

    this.keys = new PlatformKeys(this, 'Keys', { config });
    this.data = new PlatformTable(this, 'Data', { config, encryptionKey: this.keys.dataKey });
    this.queues = new PlatformQueues(this, 'Queues', { config, rows: tables.queues });
    if (config.tableBackups) this.backups = new TableBackups(this, 'Backups', { config, table: this.data.table, tableKey: this.keys.dataKey });

    const resources: PlatformResources = {
      table: this.data.table,
      indexArns: this.data.indexArns,
      dataKey: this.keys.dataKey,
      macKeys: this.keys.macKeys,
      queues: this.queues.queues(),
      ...(config.operatorSettings === 'ssm' ? { operatorSettings: this.operatorSettings() } : {}),
    };
    // What shared/config.ts reads at cold start; queue URLs are added per row by grantAccess.
    const environment = {
      STAGE: config.stage,
      TABLE_NAME: this.data.table.tableName,
      KEY_SOURCE: 'kms',
      KMS_KEY_ARN: this.keys.dataKey.keyArn,
      CARD_BIN: config.cardBin,
      HOLD_EXPIRY_DAYS: JSON.stringify(config.holdExpiry),
      ESCROW_HOLDS: config.escrowHolds,
      WRITE_FORMAT: config.writeFormat,
    };
    // Deposit-address keys go only to the functions whose row asks for them (`walletKeys`); the
    // SSM lookups (template parameters) exist only when one does.
    const walletEnvironment = (): Record<string, string> => {
      if (config.walletKeys !== 'ssm') return {};
      const xpub = (family: 'btc' | 'evm' | 'tron') => ssm.StringParameter.valueForStringParameter(this, parameterNames(config.stage).walletXpub(family));
      return { WALLET_XPUB_BTC: xpub('btc'), WALLET_XPUB_EVM: xpub('evm'), WALLET_XPUB_TRON: xpub('tron') };
    };
    const bundling = props.bundling === 'fast' ? { prebundledIn: this.prebundle(tables) } : 'release';
    this.functionStacks = new FunctionStacks(this, 'Functions', config);
    const makeFunction: FunctionFactory = (scope, spec) => {
      const fn = new PlatformFunction(scope, pascal(spec.handlerModule), {
        handlerModule: spec.handlerModule,
        description: spec.description,
        timeout: spec.timeout,
        reservedConcurrency: spec.reservedConcurrency,
        provisionedConcurrency: spec.handlerModule === NETWORK_AUTHORIZATION_HANDLER ? config.networkAuthorizationProvisionedConcurrency : undefined,
        config,
        logsKey: this.keys.logsKey,
        environment,
        bundling,
      });
      grantAccess(fn, spec.access, resources);
      if (spec.access.walletKeys) for (const [name, value] of Object.entries(walletEnvironment())) fn.addEnvironment(name, value);
      const home = Stack.of(scope);
      if (home instanceof FunctionStack) home.register(fn);
      return fn;
    };

    this.http = new PlatformApi(this, 'Http', {
      config,
      logsKey: this.keys.logsKey,
      routes: tables.routes,
      authorizers: tables.authorizers,
      makeFunction,
      routeScope: (row) => this.functionStacks.of(areaOfRoute(row)),
    });
    new ApiWebAcl(this, 'Firewall', { config, stage: this.http.api.deploymentStage, logsKey: this.keys.logsKey });
    new UntracedRoutes(this, 'UntracedRoutes', { config, routes: tables.routes });

    // The stream DLQ holds data, so it stays here; the consumers and schedules are the pipeline area.
    const streamDeadLetterQueue = tables.consumers.some((row) => row.source.kind === 'stream')
      ? deadLetterQueue(new Construct(this, 'Consumers'), 'StreamDeadLetterQueue', config)
      : undefined;
    const pipeline = () => this.functionStacks.of(PIPELINE_AREA);
    const consumers = tables.consumers.length > 0 ? new Construct(pipeline(), 'Consumers') : this;
    this.streamDeadLetterQueue = streamDeadLetterQueue;
    for (const row of tables.consumers) {
      const source = row.source.kind === 'stream' ? 'the table stream' : `the ${row.source.queue} queue`;
      const fn = makeFunction(consumers, {
        handlerModule: row.handler,
        description: `Consumer of ${source}`,
        timeout: consumerTimeout(row, tables.queues),
        access: row.access,
      });
      attachEventSource(consumers, fn, row, {
        table: this.data.table,
        streamDeadLetterQueue,
        queues: resources.queues,
        queueConcurrency: config.deliveryConcurrency,
      });
      this.consumerFunctions.set(row, fn);
    }

    const scheduled = tables.schedules.length > 0 ? new Construct(pipeline(), 'Schedules') : this;
    for (const row of tables.schedules) {
      const fn = makeFunction(scheduled, {
        handlerModule: row.handler,
        description: scheduleDescription(row),
        timeout: Duration.seconds(row.timeoutSeconds),
        access: row.access,
      });
      attachSchedule(scheduled, fn, row);
      this.scheduledFunctions.set(row, fn);
    }

    // Operating the stage: alarms on every flow, all notifying one topic, and a dashboard of the same.
    const watched: (WatchedFunction & { fn: PlatformFunction })[] = [
      ...[...this.http.routeFunctions].map(([row, fn]) => ({
        flow: row.credential === 'business' || row.credential === 'public' ? ('partner-api' as const) : ('network' as const),
        label: `${row.method} ${row.path}`,
        fn,
      })),
      ...[...this.http.authorizerFunctions].map(([credential, fn]) => ({ flow: 'authorizers' as const, label: `authorizer of ${credential} credentials`, fn })),
      ...[...this.consumerFunctions].map(([row, fn]) => ({ flow: 'webhooks' as const, label: row.handler, fn })),
      ...[...this.scheduledFunctions].map(([row, fn]) => ({ flow: 'webhooks' as const, label: row.handler, fn })),
    ];
    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', { config });
    this.alarms = new PlatformAlarms(this, 'Alarms', {
      config,
      topic: this.alarmTopic.topic,
      api: this.http.api,
      table: this.data.table,
      queues: this.queues.byName,
      streamDeadLetterQueue,
      functions: watched,
      streamConsumers: [...this.consumerFunctions].filter(([row]) => row.source.kind === 'stream').map(([, fn]) => fn),
    });
    this.dashboard = new PlatformDashboard(this, 'Dashboard', { config, api: this.http.api, alarms: this.alarms, functions: watched });

    if (config.deployment.kind === 'canary') {
      const { trafficShift, rollbackAlarms } = config.deployment;
      const deploymentsOf = (members: typeof watched) =>
        members.map((member) => {
          if (!member.fn.liveAlias) throw new Error(`${member.label} has no live alias`);
          return { id: member.fn.node.id, alias: member.fn.liveAlias, rollbackAlarmNames: this.alarms.rollbackAlarmNamesOf(member) };
        });
      const inStack = (stack: Stack) => watched.filter((member) => Stack.of(member.fn) === stack);
      const root = new CanaryDeployments(this, 'Deployments', { trafficShift, rollbackAlarms, deployments: deploymentsOf(inStack(this)) });
      this.deployments.push(root);
      for (const functionStack of this.functionStacks.all()) {
        this.deployments.push(
          // Named after the area, so every logical id of the stage is unique across its templates.
          new CanaryDeployments(functionStack, `${pascal(functionStack.area)}Deployments`, {
            application: root.application,
            trafficShift,
            rollbackAlarms,
            deployments: deploymentsOf(inStack(functionStack)),
          }),
        );
      }
    }

    // Where the admin CLI finds this stage (names documented in stage-config.ts).
    const names = parameterNames(config.stage);
    const parameters: [string, string, string][] = [
      ['TableNameParameter', names.tableName, this.data.table.tableName],
      ['KmsKeyArnParameter', names.kmsKeyArn, this.keys.dataKey.keyArn],
      ...[...this.keys.macKeys].map(([purpose, key]): [string, string, string] => [`MacKey${pascal(purpose)}ArnParameter`, names.macKeyArn(purpose), key.keyArn]),
      ['ApiUrlParameter', names.apiUrl, this.http.url],
      ['DefaultUsagePlanIdParameter', names.defaultUsagePlanId, this.http.defaultBusinessUsagePlan.usagePlanId],
      ['ApiIdParameter', names.apiId, this.http.api.restApiId],
    ];
    for (const [name, pair] of this.queues.byName) {
      parameters.push([`${pascal(name)}QueueUrlParameter`, names.queueUrl(name), pair.queue.queueUrl]);
      parameters.push([`${pascal(name)}DeadLetterQueueUrlParameter`, names.queueDlqUrl(name), pair.deadLetterQueue.queueUrl]);
    }
    if (streamDeadLetterQueue) parameters.push(['StreamDeadLetterQueueUrlParameter', names.streamDlqUrl, streamDeadLetterQueue.queueUrl]);
    for (const [id, parameterName, stringValue] of parameters) {
      new ssm.StringParameter(this, id, { parameterName, stringValue, description: `Card platform (${config.stage})` });
    }

    new CfnOutput(this, 'ApiUrl', { value: this.http.url });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
    new CfnOutput(this, 'Stage', { value: config.stage });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboard.dashboardName });
    if (this.backups) new CfnOutput(this, 'BackupVaultName', { value: this.backups.vault.backupVaultName });

    applyNagSuppressions(this);
  }

  /**
   * The SSM parameters of the operator's money settings (infra/stage-config.ts `operatorSettings`).
   * The operator owns them: the stack neither creates nor writes them (a deploy must never reset
   * a rate), and functions read them at runtime. Each is also declared as a template parameter of
   * an SSM type, which CloudFormation resolves on every create and update and refuses when the
   * parameter does not exist, so a stage cannot be deployed before the operator has set them;
   * the resolved values themselves are not used.
   */
  private operatorSettings(): Record<OperatorSetting, OperatorSettingSource> {
    const names = parameterNames(this.config.stage);
    const required: [string, string][] = [
      ['FxRatesParameter', names.fxRates],
      ['FxFeeBpsParameter', names.fxFeeBps],
      ['DepositFeeBpsParameter', names.depositFeeBps],
    ];
    for (const [id, name] of required) {
      new CfnParameter(this, id, {
        type: 'AWS::SSM::Parameter::Value<String>',
        default: name,
        description: `Set by the operator before deploying (README, "Deploying"); read at runtime by the functions that need it`,
      });
    }
    return {
      fx: {
        parameters: { FX_RATES_PARAMETER: names.fxRates, FX_FEE_BPS_PARAMETER: names.fxFeeBps },
        environment: { FX_RATE_MAX_AGE_SECONDS: String(this.config.fxRateMaxAge.toSeconds()) },
      },
      'deposit-fee': { parameters: { DEPOSIT_FEE_BPS_PARAMETER: names.depositFeeBps } },
    };
  }

  /** `fast` bundling: every handler of the stack in one esbuild pass, inside the cloud assembly. */
  private prebundle(tables: PlatformTables): string {
    const credentials = new Set(tables.routes.flatMap((row) => (row.credential === 'public' ? [] : [row.credential])));
    const modules = [
      ...tables.routes.map((row) => row.handler),
      ...[...credentials].map((credential) => tables.authorizers[credential].handler),
      ...tables.consumers.map((row) => row.handler),
      ...tables.schedules.map((row) => row.handler),
    ];
    const outdir = join(Stage.of(this)?.outdir ?? '.', 'prebundled');
    prebundle(modules, outdir);
    return outdir;
  }

  /** Every dead-letter queue: one per queue row, plus the stream consumers' on-failure queue. */
  deadLetterQueues(): sqs.Queue[] {
    const queues = [...this.queues.byName.values()].map((pair) => pair.deadLetterQueue);
    return this.streamDeadLetterQueue ? [...queues, this.streamDeadLetterQueue] : queues;
  }
}

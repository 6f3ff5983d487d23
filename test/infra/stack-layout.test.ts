/**
 * How a stage is split into templates (infra/constructs/function-stacks.ts): a root stack of data,
 * keys, the API and operations, and a nested stack per area of the API with that area's functions,
 * every template well below CloudFormation's 500 resources, today and as the route table grows.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumers, routesForStage, schedules, type RouteRow } from '../../shared/routes.ts';
import {
  areaOfRoute,
  FUNCTIONS_PER_STACK,
  FunctionStack,
  PIPELINE_AREA,
  RESOURCES_PER_FUNCTION,
  RESOURCES_PER_FUNCTION_STACK,
} from '../../infra/constructs/function-stacks.ts';
import type { PlatformFunction } from '../../infra/constructs/platform-function.ts';
import { pascal } from '../../infra/constructs/naming.ts';
import { stageConfig, type Stage } from '../../infra/stage-config.ts';
import { nagFindings, referencedId, synthesize, type DeployedTemplate, type Synthesis } from './support/synth.ts';

/** What every template is held to: CloudFormation refuses a 501st resource, so keep a margin. */
const RESOURCE_BUDGET = 400;
const STAGES: Stage[] = ['sandbox', 'production'];

const resourceCount = (deployed: DeployedTemplate) => Object.keys(deployed.json.Resources).length;
const functionCount = (deployed: DeployedTemplate) => Object.values(deployed.json.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function').length;
const countsOf = (templates: DeployedTemplate[]) => Object.fromEntries(templates.map((deployed) => [deployed.path, resourceCount(deployed)]));

let synthesis: Synthesis;
beforeAll(() => {
  synthesis = synthesize({ sandbox: { stage: 'sandbox' }, production: { stage: 'production' } });
});
afterAll(() => synthesis?.dispose());

describe('the budget of a nested stack', () => {
  it(`fits ${FUNCTIONS_PER_STACK} functions of ${RESOURCES_PER_FUNCTION} resources each in ${RESOURCE_BUDGET}`, () => {
    // 2 + 35 × 11 = 387 ≤ 400 (function-stacks.ts says what the 11 are).
    expect(RESOURCES_PER_FUNCTION_STACK + FUNCTIONS_PER_STACK * RESOURCES_PER_FUNCTION).toBeLessThanOrEqual(RESOURCE_BUDGET);
  });

  it('refuses one function more than that, naming the area', () => {
    const functionStack = new FunctionStack(new Stack(new App(), 'Budget'), 'Cards', { area: 'cards', config: stageConfig('production') });
    const fn = {} as PlatformFunction;
    for (let count = 0; count < FUNCTIONS_PER_STACK; count++) functionStack.register(fn);
    expect(() => functionStack.register(fn)).toThrow(new RegExp(`The cards area has more than ${FUNCTIONS_PER_STACK} functions`));
  });

  it('takes the area from the first path segment after the version', () => {
    expect(areaOfRoute({ path: '/v1/cards/{id}/lock' })).toBe('cards');
    expect(areaOfRoute({ path: '/v1/simulate/3ds/{verification_id}/verify' })).toBe('simulate');
    expect(areaOfRoute({ path: '/network/authorizations' })).toBe('network');
    expect(() => areaOfRoute({ path: '/v1/{id}' })).toThrow(/names no area/);
  });
});

describe.each(STAGES)('the %s stage', (stage) => {
  const stageOf = () => synthesis.stacks[stage]!;

  it('is a root stack and one nested stack per area of its rows', () => {
    const { stack, templates } = stageOf();
    const areas = new Set([...routesForStage(stage).map(areaOfRoute), PIPELINE_AREA]);
    expect(templates[0]!.stack).toBe(stack);
    expect(templates.slice(1).map((deployed) => deployed.path).sort()).toEqual([...areas].map((area) => `${stack.node.path}/Functions/${pascal(area)}`).sort());
  });

  it(`holds at most ${RESOURCE_BUDGET} resources in every template`, () => {
    const counts = countsOf(stageOf().templates);
    for (const [path, count] of Object.entries(counts)) expect(count, `${path} (${JSON.stringify(counts)})`).toBeLessThanOrEqual(RESOURCE_BUDGET);
  });

  it(`spends at most ${RESOURCES_PER_FUNCTION} resources a function and holds at most ${FUNCTIONS_PER_STACK} functions in a nested stack`, () => {
    for (const deployed of stageOf().templates.slice(1)) {
      const functions = functionCount(deployed);
      expect(functions, deployed.path).toBeGreaterThan(0);
      expect(functions, deployed.path).toBeLessThanOrEqual(FUNCTIONS_PER_STACK);
      expect(resourceCount(deployed), deployed.path).toBeLessThanOrEqual(RESOURCES_PER_FUNCTION_STACK + RESOURCES_PER_FUNCTION * functions);
    }
  });

  it("builds each route's function in its area's nested stack, the pipeline's in the webhooks stack, and the authorizers' with the API in the root", () => {
    const { stack } = stageOf();
    const areaOf = (fn: PlatformFunction) => {
      const home = Stack.of(fn);
      return home instanceof FunctionStack ? home.area : 'root';
    };
    for (const row of routesForStage(stage)) expect(areaOf(stack.http.routeFunctions.get(row)!), `${row.method} ${row.path}`).toBe(areaOfRoute(row));
    expect([...stack.consumerFunctions.values(), ...stack.scheduledFunctions.values()].map(areaOf)).toEqual(
      [...consumers, ...schedules].map(() => PIPELINE_AREA),
    );
    expect([...stack.http.authorizerFunctions.values()].map(areaOf)).toEqual(['root', 'root', 'root']);
    expect(stack.functionStacks.all().reduce((count, functionStack) => count + functionStack.functions.length, 0)).toBe(
      routesForStage(stage).length + consumers.length + schedules.length,
    );
  });

  it("keeps the table, the keys, the queues and the backups in the root, and retains nothing in a nested stack but its functions' log groups", () => {
    const [root, ...nested] = stageOf().templates;
    const rootTypes = new Set(Object.values(root!.json.Resources).map((resource) => resource.Type));
    for (const type of ['AWS::DynamoDB::Table', 'AWS::KMS::Key', 'AWS::SQS::Queue']) expect(rootTypes.has(type), type).toBe(true);
    for (const deployed of nested) {
      const resources = deployed.json.Resources;
      for (const [id, resource] of Object.entries(resources)) {
        expect(['AWS::DynamoDB::Table', 'AWS::KMS::Key', 'AWS::SQS::Queue', 'AWS::SecretsManager::Secret'], id).not.toContain(resource.Type);
        expect(resource.Type.startsWith('AWS::Backup::'), id).toBe(false);
        if (resource.DeletionPolicy !== 'Retain' && resource.UpdateReplacePolicy !== 'Retain') continue;
        // A function's log group, retained in production wherever it lives (README, "Stack layout").
        expect(resource.Type, id).toBe('AWS::Logs::LogGroup');
        const loggers = Object.values(resources).filter((fn) => fn.Type === 'AWS::Lambda::Function' && referencedId(fn.Properties.LoggingConfig.LogGroup) === id);
        expect(loggers, id).toHaveLength(1);
      }
    }
  });

  it('runs the cdk-nag packs over the nested stacks: a finding there is reported, and acknowledged ones stay acknowledged', () => {
    const { stack } = stageOf();
    const functionStack = stack.functionStacks.all()[0]!;
    expect(nagFindings(stack)).toEqual([]);
    // An unencrypted queue without a DLQ, put in a nested stack, is a finding at its path.
    new sqs.Queue(functionStack, 'NagProbe', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    try {
      const probed = nagFindings(stack).filter((finding) => finding.paths.some((path) => path.startsWith(`${functionStack.node.path}/NagProbe/`)));
      expect(probed.map((finding) => finding.rule)).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
    } finally {
      functionStack.node.tryRemoveChild('NagProbe');
    }
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('a route table three times as large', () => {
  let grown: Synthesis;
  let today: Synthesis;
  const production = routesForStage('production');
  /** A row moved to a copy of its area: `/v1/cards/{id}/lock` → `/v1/load-1-cards/{id}/lock`. */
  const copied = (row: RouteRow, copy: number): RouteRow => {
    const segments = row.path.split('/');
    const at = /^v\d+$/.test(segments[1] ?? '') ? 2 : 1;
    segments[at] = `load-${copy}-${segments[at]!.replaceAll('.', '-')}`;
    return { ...row, path: segments.join('/') };
  };
  // Every production row twice more, each in a copy of its own area: twice today's nested stacks.
  const rows: RouteRow[] = [...production, ...[1, 2].flatMap((copy) => production.map((row) => copied(row, copy)))];

  beforeAll(() => {
    grown = synthesize({ grown: { stage: 'production', tables: { routes: rows } } });
    today = synthesize({ today: { stage: 'production' } });
  });
  afterAll(() => {
    grown?.dispose();
    today?.dispose();
  });

  it(`still holds at most ${RESOURCE_BUDGET} resources in every template`, () => {
    const { templates } = grown.stacks.grown!;
    const counts = countsOf(templates);
    expect(templates.reduce((count, deployed) => count + functionCount(deployed), 0)).toBe(rows.length + 3 + consumers.length + schedules.length);
    for (const [path, count] of Object.entries(counts)) expect(count, `${path} (${JSON.stringify(counts)})`).toBeLessThanOrEqual(RESOURCE_BUDGET);
    const cards = production.filter((row) => areaOfRoute(row) === 'cards').length;
    expect(functionCount(templates.find((deployed) => deployed.path.endsWith('/Functions/Load1Cards'))!)).toBe(cards);
  });

  it("keeps methods and path resources out of the root, which grows by far less than a resource a route", () => {
    const [grownRoot] = grown.stacks.grown!.templates;
    const [todayRoot] = today.stacks.today!.templates;
    for (const root of [grownRoot!, todayRoot!]) {
      const types = Object.values(root.json.Resources).map((resource) => resource.Type);
      expect(types.filter((type) => type === 'AWS::ApiGateway::Method'), root.path).toEqual([]);
      // `/v1` only: every segment after it belongs to an area.
      expect(types.filter((type) => type === 'AWS::ApiGateway::Resource'), root.path).toHaveLength(1);
    }
    // What still grows there: a nested stack per new area, and the error and throttle alarms, each
    // over a group of functions (platform-alarms.ts), so two per ten routes or so.
    const added = rows.length - production.length;
    const newAreas = grown.stacks.grown!.templates.length - today.stacks.today!.templates.length;
    expect(resourceCount(grownRoot!) - resourceCount(todayRoot!)).toBeLessThanOrEqual(newAreas + Math.ceil(added / 4));
  });
});

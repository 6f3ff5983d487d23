/**
 * Where the money settings the operator owns (FX rate table, FX fee, deposit fee) come from in
 * AWS: production names the operator's SSM parameters to the functions whose row reads them and
 * lets each `ssm:GetParameter` exactly those, and cannot be deployed before they exist; the
 * sandbox reads none (its functions use the sandbox defaults).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumers, routesForStage, type RouteRow } from '../../shared/routes.ts';
import { parameterNames, stageConfig } from '../../infra/stage-config.ts';
import { actionsOf, functionByDescription, ofType, statementsByRole, statementsOfFunction, synthesize, type Synthesis } from './support/synth.ts';

const SETTING_VARIABLES = ['FX_RATES_PARAMETER', 'FX_FEE_BPS_PARAMETER', 'FX_RATE_MAX_AGE_SECONDS', 'DEPOSIT_FEE_BPS_PARAMETER'];
const names = parameterNames('production');
let synthesis: Synthesis;

beforeAll(() => {
  synthesis = synthesize({ sandbox: { stage: 'sandbox' }, production: { stage: 'production' } });
});
afterAll(() => synthesis?.dispose());

const routeKey = (row: RouteRow) => `${row.method} ${row.path}`;

/** An ARN as CloudFormation would join it, with `${Partition}`, `${Region}` and `${Account}` for the pseudo parameters. */
function rendered(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map(rendered).join(join[0]);
  const ref = (value as { Ref?: string }).Ref;
  if (ref) return `\${${ref.replace('AWS::', '').replace('AccountId', 'Account')}}`;
  return JSON.stringify(value);
}

const parameterArn = (name: string) => `arn:\${Partition}:ssm:\${Region}:\${Account}:parameter${name}`;

describe('stage configuration', () => {
  it('keeps production settings in SSM, 24 hours being the oldest usable rate table, and gives the sandbox its defaults', () => {
    expect(stageConfig('production').operatorSettings).toBe('ssm');
    expect(stageConfig('production').fxRateMaxAge.toHours()).toBe(24);
    expect(stageConfig('sandbox').operatorSettings).toBe('sandbox-defaults');
    expect([names.fxRates, names.fxFeeBps, names.depositFeeBps]).toEqual([
      '/card-platform/production/fx/rates',
      '/card-platform/production/fx/fee-bps',
      '/card-platform/production/deposits/fee-bps',
    ]);
  });

  it('asks for the FX settings on the rows that convert and the deposit fee on the rows that credit deposits, nowhere else', () => {
    const rows = routesForStage('sandbox').filter((row) => row.access.settings?.length);
    expect(rows.map((row) => [routeKey(row), row.access.settings])).toEqual([
      ['POST /v1/simulate/authorizations', ['fx']],
      ['POST /v1/simulate/deposits', ['deposit-fee']],
      ['POST /v1/simulate/authorizations/{id}/increment', ['fx']],
      ['POST /v1/simulate/settlements', ['fx']],
      ['POST /v1/simulate/refunds', ['fx']],
      ['POST /network/authorizations', ['fx']],
      ['POST /network/deposits', ['deposit-fee']],
      ['POST /network/authorizations/{id}/increment', ['fx']],
      ['POST /network/settlements', ['fx']],
      ['POST /network/refunds', ['fx']],
    ]);
    for (const row of consumers) expect(row.access.settings, row.handler).toBeUndefined();
  });
});

describe('the production stack', () => {
  const FX = {
    variables: { FX_RATES_PARAMETER: names.fxRates, FX_FEE_BPS_PARAMETER: names.fxFeeBps, FX_RATE_MAX_AGE_SECONDS: '86400' },
    parameters: [names.fxRates, names.fxFeeBps],
  };
  const SETTINGS: Record<string, { variables: Record<string, string>; parameters: string[] }> = {
    'POST /network/authorizations': FX,
    // Increments convert like authorizations; force posts and refunds in another currency too.
    'POST /network/authorizations/{id}/increment': FX,
    'POST /network/settlements': FX,
    'POST /network/refunds': FX,
    'POST /network/deposits': { variables: { DEPOSIT_FEE_BPS_PARAMETER: names.depositFeeBps }, parameters: [names.depositFeeBps] },
  };

  it('cannot be deployed before the operator has set the parameters: each is a template parameter of an SSM type', () => {
    const { template } = synthesis.stacks.production!;
    const parameters = Object.values(template.toJSON().Parameters as Record<string, { Type: string; Default?: string }>);
    for (const name of [names.fxRates, names.fxFeeBps, names.depositFeeBps]) {
      expect(parameters, name).toContainEqual(expect.objectContaining({ Type: 'AWS::SSM::Parameter::Value<String>', Default: name }));
    }
    // The operator owns them: the stack never creates (or, on a deploy, resets) one.
    const created = ofType(template, 'AWS::SSM::Parameter').map(([, props]) => props.Name);
    expect(created.filter((name) => /\/(fx|deposits)\//.test(String(name)))).toEqual([]);
  });

  it.each(Object.entries(SETTINGS))('names the parameters to %s and lets it GetParameter exactly those', (route, expected) => {
    const { template } = synthesis.stacks.production!;
    const [functionId, fn] = functionByDescription(template, route);
    const variables = fn.Environment.Variables as Record<string, string>;
    expect(Object.fromEntries(SETTING_VARIABLES.filter((name) => name in variables).map((name) => [name, variables[name]]))).toEqual(expected.variables);
    const grants = statementsOfFunction(template, functionId).filter((statement) => actionsOf(statement).some((action) => action.startsWith('ssm:')));
    expect(grants).toHaveLength(1);
    expect(grants[0]!.Effect).toBe('Allow');
    expect(actionsOf(grants[0]!)).toEqual(['ssm:GetParameter']);
    expect([grants[0]!.Resource].flat().map(rendered).sort()).toEqual(expected.parameters.map(parameterArn).sort());
  });

  it('gives no other role any SSM access or setting variable', () => {
    const { template } = synthesis.stacks.production!;
    const withSettings = new Set(Object.keys(SETTINGS).map((route) => functionByDescription(template, route)[0]));
    for (const [id, props] of ofType(template, 'AWS::Lambda::Function')) {
      if (withSettings.has(id)) continue;
      for (const variable of SETTING_VARIABLES) expect(props.Environment.Variables[variable], `${id} ${variable}`).toBeUndefined();
      const ssm = statementsOfFunction(template, id).flatMap(actionsOf).filter((action) => action.startsWith('ssm:'));
      expect(ssm, id).toEqual([]);
    }
    const rolesWithSsm = [...statementsByRole(template)].filter(([, statements]) => statements.some((s) => actionsOf(s).some((a) => a.startsWith('ssm:'))));
    expect(rolesWithSsm).toHaveLength(Object.keys(SETTINGS).length);
  });
});

describe('the sandbox stack', () => {
  it('reads no setting parameter: no SSM grant, no setting variable, no template parameter', () => {
    const { template } = synthesis.stacks.sandbox!;
    for (const [id, props] of ofType(template, 'AWS::Lambda::Function')) {
      for (const variable of SETTING_VARIABLES) expect(props.Environment.Variables[variable], `${id} ${variable}`).toBeUndefined();
    }
    for (const [roleId, statements] of statementsByRole(template)) {
      expect(statements.flatMap(actionsOf).filter((action) => action.startsWith('ssm:')), roleId).toEqual([]);
    }
    const parameters = Object.values((template.toJSON().Parameters ?? {}) as Record<string, { Default?: string }>);
    expect(parameters.filter((p) => /\/(fx|deposits)\//.test(String(p.Default)))).toEqual([]);
  });
});

/**
 * Where deposit-address keys come from in AWS: production reads the stage's SSM parameters at
 * deploy time and hands them only to the functions whose route row asks for them; the sandbox
 * sets none (its functions use the labelled test keys).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routesForStage } from '../../shared/routes.ts';
import { parameterNames, stageConfig } from '../../infra/stage-config.ts';
import { functionByDescription, ofType, synthesize, type Synthesis } from './support/synth.ts';

const WALLET_VARIABLES = ['WALLET_XPUB_BTC', 'WALLET_XPUB_EVM', 'WALLET_XPUB_TRON'];
let synthesis: Synthesis;

beforeAll(() => {
  synthesis = synthesize({ sandbox: { stage: 'sandbox' }, production: { stage: 'production' } });
});
afterAll(() => synthesis?.dispose());

const CREATE_ADDRESS = 'POST /v1/users/{p_user_id}/wallet-addresses';

describe('stage configuration', () => {
  it('takes production keys from SSM and lets the sandbox use its test keys', () => {
    expect(stageConfig('production').walletKeys).toBe('ssm');
    expect(stageConfig('sandbox').walletKeys).toBe('sandbox-test-keys');
    expect(parameterNames('production').walletXpub('evm')).toBe('/card-platform/production/wallet-xpubs/evm');
  });

  it('asks for the keys on the address-creating route only', () => {
    const rows = routesForStage('production').filter((row) => row.access.walletKeys);
    expect(rows.map((row) => `${row.method} ${row.path}`)).toEqual([CREATE_ADDRESS]);
  });
});

describe('the production stack', () => {
  it('resolves each WALLET_XPUB_* from the stage\'s SSM parameter at deploy time', () => {
    const { template } = synthesis.stacks.production!;
    const parameters = template.toJSON().Parameters as Record<string, { Type: string; Default?: string }>;
    const [, fn] = functionByDescription(template, CREATE_ADDRESS);
    const variables = fn.Environment.Variables as Record<string, { Ref: string }>;
    for (const [variable, family] of [['WALLET_XPUB_BTC', 'btc'], ['WALLET_XPUB_EVM', 'evm'], ['WALLET_XPUB_TRON', 'tron']] as const) {
      const parameter = parameters[variables[variable]!.Ref]!;
      expect(parameter, variable).toEqual({ Type: 'AWS::SSM::Parameter::Value<String>', Default: parameterNames('production').walletXpub(family) });
    }
  });

  it('gives the keys to no other function', () => {
    const { template } = synthesis.stacks.production!;
    const [createAddressId] = functionByDescription(template, CREATE_ADDRESS);
    for (const [id, props] of ofType(template, 'AWS::Lambda::Function')) {
      if (id === createAddressId) continue;
      for (const variable of WALLET_VARIABLES) expect(props.Environment.Variables[variable], `${id} ${variable}`).toBeUndefined();
    }
  });
});

describe('the sandbox stack', () => {
  it('sets no wallet keys and reads no wallet parameter', () => {
    const { template } = synthesis.stacks.sandbox!;
    for (const [id, props] of ofType(template, 'AWS::Lambda::Function')) {
      for (const variable of WALLET_VARIABLES) expect(props.Environment.Variables[variable], `${id} ${variable}`).toBeUndefined();
    }
    const parameters = Object.values((template.toJSON().Parameters ?? {}) as Record<string, { Default?: string }>);
    expect(parameters.filter((p) => String(p.Default).includes('wallet-xpubs'))).toEqual([]);
  });
});

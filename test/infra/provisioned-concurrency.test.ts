/**
 * Provisioned concurrency of the network authorization route (infra/stage-config.ts
 * `networkAuthorizationProvisionedConcurrency`): off unless asked for, and then on that route's
 * `live` alias only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageConfig } from '../../infra/stage-config.ts';
import { synthesize, type Synthesis } from './support/synth.ts';

let synthesis: Synthesis;
beforeAll(() => {
  synthesis = synthesize({
    production: { stage: 'production' },
    warm: { stage: 'production', overrides: { networkAuthorizationProvisionedConcurrency: '3' } },
  });
});
afterAll(() => synthesis?.dispose());

function provisionedAliases(name: string): { functionName: string; executions: number }[] {
  const aliases = synthesis.stacks[name]!.template.findResources('AWS::Lambda::Alias');
  return Object.values(aliases)
    .filter((alias) => alias.Properties?.ProvisionedConcurrencyConfig)
    .map((alias) => ({ functionName: JSON.stringify(alias.Properties.FunctionName), executions: alias.Properties.ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions }));
}

describe('provisioned concurrency', () => {
  it('is off on production by default', () => {
    expect(stageConfig('production').networkAuthorizationProvisionedConcurrency).toBe(0);
    expect(provisionedAliases('production')).toEqual([]);
  });

  it('when set, keeps that many environments of the network authorization live alias and nothing else', () => {
    const aliases = provisionedAliases('warm');
    expect(aliases).toHaveLength(1);
    expect(aliases[0]!.executions).toBe(3);
    expect(aliases[0]!.functionName).toMatch(/NetworkCreateAuthorization/);
  });

  it('is refused on a stage without the live alias, beyond the reserved concurrency, or not a whole number', () => {
    expect(() => stageConfig('sandbox', { networkAuthorizationProvisionedConcurrency: 1 })).toThrow(/live alias/);
    expect(() => stageConfig('production', { networkAuthorizationProvisionedConcurrency: 101 })).toThrow(/reserved concurrency/);
    expect(() => stageConfig('production', { networkAuthorizationProvisionedConcurrency: 'two' })).toThrow(/whole number/);
  });
});

/**
 * The money settings the operator owns: read from SSM at runtime, validated on every read, cached
 * for a minute, never the sandbox defaults in production; the sandbox (and the local stack) uses
 * its defaults and never calls SSM.
 */
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_USD_VALUE } from '../../../shared/domain/fx.ts';
import {
  CACHE_MS,
  OperatorSettingsError,
  readDepositFeeBps,
  readFxSettings,
  resetOperatorSettingsForTests,
  type FxSource,
} from '../../../shared/services/operator-settings.ts';
import { captureLogs } from '../../support/capture-logs.ts';

const ssm = mockClient(SSMClient);
const logs = captureLogs();

const RATES = '/card-platform/production/fx/rates';
const FX_FEE = '/card-platform/production/fx/fee-bps';
const DEPOSIT_FEE = '/card-platform/production/deposits/fee-bps';
const PRODUCTION: FxSource = { stage: 'production', ratesParameter: RATES, feeBpsParameter: FX_FEE, maxAgeSeconds: 86_400 };
const now = new Date('2025-03-04T12:00:00Z');
const later = (ms: number) => new Date(now.getTime() + ms);

const operatorTable = (asOf = '2025-03-04T00:00:00Z', hkd = '0.1281') =>
  JSON.stringify({ as_of: asOf, usd_values: { HKD: hkd, EUR: '1.09', GBP: '1.26', SGD: '0.75', JPY: '0.0066' } });

function setParameters(values: Record<string, string>) {
  ssm.reset();
  ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => {
    const value = values[input.Name];
    if (value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
    return { Parameter: { Name: input.Name, Type: 'String', Value: value } };
  });
}

const reads = () => ssm.commandCalls(GetParameterCommand).map((call) => call.args[0].input.Name);

beforeEach(() => {
  resetOperatorSettingsForTests();
  ssm.reset();
});

describe('FX settings', () => {
  it('are the sandbox defaults in the sandbox, with a table dated now, without calling SSM', async () => {
    const fx = await readFxSettings({ stage: 'sandbox', maxAgeSeconds: 86_400 }, now);

    expect(fx).toEqual({ rates: { asOf: now, usdValues: SANDBOX_USD_VALUE }, feeBps: 100n, maxAgeMs: 86_400_000 });
    expect(reads()).toEqual([]);
  });

  it('are never the sandbox defaults in production: without parameter names they are an error', async () => {
    await expect(readFxSettings({ stage: 'production', maxAgeSeconds: 86_400 }, now)).rejects.toThrow(OperatorSettingsError);
    await expect(readFxSettings({ stage: 'production', maxAgeSeconds: 86_400 }, now)).rejects.toThrow(/never converts with the sandbox rates/);
    await expect(readFxSettings({ ...PRODUCTION, feeBpsParameter: undefined }, now)).rejects.toThrow(/FX_FEE_BPS_PARAMETER/);
    expect(reads()).toEqual([]);
  });

  it('read the operator\'s rate table and fee from SSM, validated', async () => {
    setParameters({ [RATES]: operatorTable(), [FX_FEE]: '150' });

    const fx = await readFxSettings(PRODUCTION, now);

    expect(fx.rates).toEqual({
      asOf: new Date('2025-03-04T00:00:00Z'),
      usdValues: { USD: '1', HKD: '0.1281', EUR: '1.09', GBP: '1.26', SGD: '0.75', JPY: '0.0066' },
    });
    expect(fx.feeBps).toBe(150n);
    expect(reads().sort()).toEqual([FX_FEE, RATES]);
  });

  it('are read again once a minute, so an operator\'s change takes effect without a deploy', async () => {
    setParameters({ [RATES]: operatorTable(), [FX_FEE]: '150' });
    await readFxSettings(PRODUCTION, now);
    await readFxSettings(PRODUCTION, later(CACHE_MS - 1));
    expect(reads()).toHaveLength(2);

    setParameters({ [RATES]: operatorTable('2025-03-04T11:00:00Z', '0.1282'), [FX_FEE]: '120' });
    const fx = await readFxSettings(PRODUCTION, later(CACHE_MS));

    expect(reads()).toHaveLength(2);
    expect(fx.rates.usdValues.HKD).toBe('0.1282');
    expect(fx.feeBps).toBe(120n);
  });

  it.each([
    ['a malformed table', { [RATES]: '{"as_of":"2025-03-04T00:00:00Z","usd_values":{"HKD":"0.128"}}', [FX_FEE]: '100' }, /SSM parameter \/card-platform\/production\/fx\/rates is malformed: usd_values.EUR: missing/],
    ['a malformed fee', { [RATES]: operatorTable(), [FX_FEE]: '1%' }, /fx\/fee-bps is malformed: must be a whole number of basis points/],
    ['a missing parameter', { [FX_FEE]: '100' }, /fx\/rates does not exist: the operator creates it/],
  ])('fail clearly on first read with %s, naming the parameter', async (_, values, message) => {
    setParameters(values);

    await expect(readFxSettings(PRODUCTION, now)).rejects.toThrow(OperatorSettingsError);
    await expect(readFxSettings(PRODUCTION, now)).rejects.toThrow(message);
  });

  it('keep the last good table, and say so in the log, when a later read is malformed', async () => {
    setParameters({ [RATES]: operatorTable(), [FX_FEE]: '150' });
    const good = await readFxSettings(PRODUCTION, now);
    setParameters({ [RATES]: '{"as_of": "2025-03-04T11:00:00Z", "usd_values": {"HKD": 0.128}}', [FX_FEE]: '150' });

    const kept = await readFxSettings(PRODUCTION, later(CACHE_MS));

    expect(kept.rates).toEqual(good.rates);
    const lines = logs.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((line) => JSON.parse(line));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'ERROR', parameter: RATES, problem: expect.stringContaining('usd_values.HKD') }));
  });
});

describe('the deposit fee', () => {
  it('is 0 in the sandbox, without calling SSM', async () => {
    expect(await readDepositFeeBps({ stage: 'sandbox' }, now)).toBe(0n);
    expect(reads()).toEqual([]);
  });

  it('is the operator\'s in production, and an error rather than 0 when it is not configured', async () => {
    setParameters({ [DEPOSIT_FEE]: '75' });
    expect(await readDepositFeeBps({ stage: 'production', parameter: DEPOSIT_FEE }, now)).toBe(75n);
    await expect(readDepositFeeBps({ stage: 'production' }, now)).rejects.toThrow(/DEPOSIT_FEE_BPS_PARAMETER.*never charges the sandbox deposit fee/);
  });

  it('refuses a fee above 100%', async () => {
    setParameters({ [DEPOSIT_FEE]: '10001' });
    await expect(readDepositFeeBps({ stage: 'production', parameter: DEPOSIT_FEE }, now)).rejects.toThrow(/deposits\/fee-bps is malformed/);
  });
});

/**
 * Authorizations that need a conversion use the operator's rate table and FX fee (read from SSM,
 * shared/services/operator-settings.ts) and decline `fx_rate_unavailable` when the table is older
 * than the stage allows or cannot be read. An authorization in the card's own currency never
 * needs a rate, so it never reads one.
 */
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as networkAuthorize } from '../../../functions/network/create-authorization.ts';
import { handler as simulateAuthorize } from '../../../functions/simulate/create-authorization.ts';
import { resetConfigForTests } from '../../../shared/config.ts';
import { resetOperatorSettingsForTests } from '../../../shared/services/operator-settings.ts';
import { captureLogs } from '../../support/capture-logs.ts';
import { lambdaContext, parseBody } from '../../support/events.ts';
import { businessItem, cardItem, networkAuthorizationEvent, panIndexItem, serveItems, simulateAuthorizationEvent, type CardItemOptions } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const ssm = mockClient(SSMClient);
const logs = captureLogs();

const RATES = '/card-platform/unit/fx/rates';
const FX_FEE = '/card-platform/unit/fx/fee-bps';
const HOUR = 3_600_000;
const VARIABLES = { FX_RATES_PARAMETER: RATES, FX_FEE_BPS_PARAMETER: FX_FEE, FX_RATE_MAX_AGE_SECONDS: '86400' };

/** A table dated `ageMs` ago in which one USD is 8 HKD (HKD = 0.125). */
function tableAged(ageMs: number): string {
  return JSON.stringify({
    as_of: new Date(Date.now() - ageMs).toISOString(),
    usd_values: { HKD: '0.125', EUR: '1.08', GBP: '1.27', SGD: '0.74', JPY: '0.0067' },
  });
}

function setParameters(values: Record<string, string>) {
  ssm.reset();
  ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => {
    const value = values[input.Name];
    if (value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
    return { Parameter: { Name: input.Name, Type: 'String', Value: value } };
  });
}

async function withCard(options: CardItemOptions = {}) {
  serveItems(ddb, [cardItem({ currency: 'HKD', ...options }), businessItem(), await panIndexItem()]);
}

const transactions = () => ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems as Record<string, any>[]);
const logLines = () => logs.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((line) => JSON.parse(line));

beforeEach(() => {
  Object.assign(process.env, VARIABLES);
  resetConfigForTests();
  resetOperatorSettingsForTests();
  ddb.reset();
  ssm.reset();
});

afterAll(() => {
  for (const name of Object.keys(VARIABLES)) delete process.env[name];
  resetConfigForTests();
  resetOperatorSettingsForTests();
});

describe('a conversion', () => {
  it('uses the operator\'s rate table and FX fee', async () => {
    setParameters({ [RATES]: tableAged(HOUR), [FX_FEE]: '150' });
    await withCard();

    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10', currency: 'USD' }), lambdaContext);

    expect(result.statusCode).toBe(201);
    // 10 USD = 80 HKD at the operator's 0.125; the fee is 1.5% of it.
    expect(parseBody(result)).toMatchObject({ status: 'Authorized', local_currency: 'HKD', local_amount: '-80', calculated_fee: '1.2' });
    expect(ssm.commandCalls(GetParameterCommand).map((call) => call.args[0].input.Name).sort()).toEqual([FX_FEE, RATES]);
  });

  it('declines fx_rate_unavailable when the table is older than the stage allows, holding nothing', async () => {
    setParameters({ [RATES]: tableAged(25 * HOUR), [FX_FEE]: '150' });
    await withCard();

    const result = await networkAuthorize(networkAuthorizationEvent('net-fx-stale', { amount: '10', currency: 'USD' }), lambdaContext);

    expect(result.statusCode).toBe(201);
    expect(parseBody(result)).toMatchObject({ status: 'Declined', decline_reason: 'fx_rate_unavailable', local_amount: null, calculated_fee: '0' });
    const [decline] = transactions();
    expect(transactions()).toHaveLength(1);
    expect(decline!.map((item) => item.Put.Item.entity)).toEqual(['network_authorization_claim', 'card_transaction', 'event', 'webhook_delivery']);
    expect(logLines()).toContainEqual(expect.objectContaining({ level: 'WARN', message: expect.stringContaining('too old'), maxAgeSeconds: 86_400 }));
  });

  it('is still approved with a table just inside its allowed age', async () => {
    setParameters({ [RATES]: tableAged(23 * HOUR), [FX_FEE]: '150' });
    await withCard();

    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10', currency: 'USD' }), lambdaContext);

    expect(parseBody(result).status).toBe('Authorized');
  });

  it.each([
    ['a malformed table', { [RATES]: '{"as_of": "2025-03-04T00:00:00Z"}', [FX_FEE]: '150' }, /fx\/rates is malformed/],
    ['a missing fee parameter', { [RATES]: tableAged(HOUR) }, /fx\/fee-bps does not exist/],
  ])('declines fx_rate_unavailable with %s, and logs the problem for the operator', async (_, values, problem) => {
    setParameters(values);
    await withCard();

    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10', currency: 'USD' }), lambdaContext);

    expect(parseBody(result)).toMatchObject({ status: 'Declined', decline_reason: 'fx_rate_unavailable' });
    expect(logLines()).toContainEqual(expect.objectContaining({ level: 'ERROR', problem: expect.stringMatching(problem) }));
  });

  it('declines for the card first: a locked card is card_locked whatever the rates', async () => {
    setParameters({ [RATES]: tableAged(25 * HOUR), [FX_FEE]: '150' });
    await withCard({ status: 'Locked' });

    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10', currency: 'USD' }), lambdaContext);

    expect(parseBody(result).decline_reason).toBe('card_locked');
  });
});

describe('an authorization in the card\'s own currency', () => {
  it('never reads a rate: it is approved even when the rate table is stale or missing', async () => {
    setParameters({});
    await withCard();

    const result = await simulateAuthorize(simulateAuthorizationEvent({ amount: '10', currency: 'HKD' }), lambdaContext);

    expect(parseBody(result)).toMatchObject({ status: 'Authorized', local_amount: '-10', calculated_fee: '0' });
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
  });
});

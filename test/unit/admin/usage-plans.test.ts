/**
 * The operator's usage-plan commands against a mocked API Gateway: what they ask AWS for. (Nothing
 * is deployed from here; the calls are checked, their effect in AWS is not.)
 */
import {
  APIGatewayClient,
  ConflictException,
  CreateApiKeyCommand,
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetApiKeysCommand,
  GetUsagePlansCommand,
} from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { enrollBusiness, resetUsagePlanClientForTests, setRateLimit, usagePlanTarget } from '../../../infra/admin/usage-plans.ts';

const apigw = mockClient(APIGatewayClient);
const target = { stage: 'production', apiId: 'api123', defaultPlanId: 'plan-default' };
const BUSINESS = '0190a3c4-0000-7000-8000-00000000b001';

beforeEach(() => {
  apigw.reset();
  resetUsagePlanClientForTests();
});

describe('usage plans of businesses', () => {
  it('exist only on a deployed stage', () => {
    expect(usagePlanTarget({ STAGE: 'sandbox' })).toBeUndefined();
    expect(usagePlanTarget({ STAGE: 'production', API_ID: 'a', USAGE_PLAN_ID: 'p' })).toEqual({ stage: 'production', apiId: 'a', defaultPlanId: 'p' });
  });

  it('enrol a new business: a key whose value is its id, in the default plan', async () => {
    apigw.on(CreateApiKeyCommand).resolves({ id: 'key-1' });
    apigw.on(GetUsagePlansCommand).resolves({ items: [] });
    apigw.on(CreateUsagePlanKeyCommand).resolves({});
    expect(await enrollBusiness(target, BUSINESS)).toEqual({ business_id: BUSINESS, usage_plan_id: 'plan-default' });
    expect(apigw.commandCalls(CreateApiKeyCommand)[0]!.args[0].input).toMatchObject({ name: `business-${BUSINESS}`, value: BUSINESS, enabled: true });
    expect(apigw.commandCalls(CreateUsagePlanKeyCommand)[0]!.args[0].input).toEqual({ usagePlanId: 'plan-default', keyId: 'key-1', keyType: 'API_KEY' });
  });

  it('enrol again without a second key or plan (idempotent backfill)', async () => {
    apigw.on(CreateApiKeyCommand).rejects(new ConflictException({ message: 'exists', $metadata: {} }));
    apigw.on(GetApiKeysCommand).resolves({ items: [{ id: 'key-1', name: `business-${BUSINESS}` }] });
    apigw.on(GetUsagePlansCommand).resolves({ items: [{ id: 'tier-5', name: 'card-platform-production-tier-r5-b10' }] });
    expect(await enrollBusiness(target, BUSINESS)).toEqual({ business_id: BUSINESS, usage_plan_id: 'tier-5' });
    expect(apigw.commandCalls(CreateUsagePlanKeyCommand)).toHaveLength(0);
  });

  it('move a business to a shared tier plan, joining it before leaving the old one', async () => {
    apigw.on(CreateApiKeyCommand).rejects(new ConflictException({ message: 'exists', $metadata: {} }));
    apigw.on(GetApiKeysCommand).resolves({ items: [{ id: 'key-1', name: `business-${BUSINESS}` }] });
    apigw.on(GetUsagePlansCommand, { keyId: 'key-1' }).resolves({ items: [{ id: 'plan-default' }] });
    apigw.on(GetUsagePlansCommand).resolves({ items: [{ id: 'plan-default', name: 'card-platform-production-business-default' }] });
    apigw.on(CreateUsagePlanCommand).resolves({ id: 'tier-new' });
    const order: string[] = [];
    apigw.on(CreateUsagePlanKeyCommand).callsFake(() => order.push('join'));
    apigw.on(DeleteUsagePlanKeyCommand).callsFake(() => order.push('leave'));
    expect(await setRateLimit(target, BUSINESS, 5, 10)).toEqual({ business_id: BUSINESS, usage_plan_id: 'tier-new', rate_limit: 5, burst_limit: 10 });
    expect(apigw.commandCalls(CreateUsagePlanCommand)[0]!.args[0].input).toMatchObject({
      name: 'card-platform-production-tier-r5-b10',
      throttle: { rateLimit: 5, burstLimit: 10 },
      apiStages: [{ apiId: 'api123', stage: 'production' }],
    });
    expect(apigw.commandCalls(DeleteUsagePlanKeyCommand)[0]!.args[0].input).toEqual({ usagePlanId: 'plan-default', keyId: 'key-1' });
    expect(order).toEqual(['join', 'leave']);
  });

  it('refuse a nonsense limit before calling AWS', async () => {
    await expect(setRateLimit(target, BUSINESS, 0, 10)).rejects.toThrow(/--rate/);
    expect(apigw.calls()).toHaveLength(0);
  });
});

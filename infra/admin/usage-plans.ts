/**
 * Per-business throttling on a deployed stage, for the operator CLI. The REST API takes usage-plan
 * keys from the business authorizer (`apiKeySourceType: AUTHORIZER`), which returns the business
 * id as `usageIdentifierKey`; so each business has an API Gateway API key whose *value* is its
 * business id (not a secret: callers never present it, the authorizer does), and that key sits in
 * exactly one usage plan: the stage's default business plan, or a tier plan an operator moved it
 * to. Tier plans are shared by every business with the same limits (an account has at most 300
 * usage plans), named `card-platform-<stage>-tier-r<rate>-b<burst>`.
 *
 * The local stack has no API Gateway: there, these commands say so and change nothing.
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
  type UsagePlan,
} from '@aws-sdk/client-api-gateway';

export interface UsagePlanTarget {
  stage: string;
  apiId: string;
  defaultPlanId: string;
}

/** The deployed stage's API and default plan (set by `useTarget`), or undefined on the local stack. */
export function usagePlanTarget(env: NodeJS.ProcessEnv = process.env): UsagePlanTarget | undefined {
  if (!env.USAGE_PLAN_ID || !env.API_ID || !env.STAGE) return undefined;
  return { stage: env.STAGE, apiId: env.API_ID, defaultPlanId: env.USAGE_PLAN_ID };
}

const keyName = (businessId: string) => `business-${businessId}`;

let client: APIGatewayClient | undefined;
const apigw = () => (client ??= new APIGatewayClient({}));

/** Gives a business its API Gateway key, in the default plan unless it is in a plan already. Idempotent. */
export async function enrollBusiness(target: UsagePlanTarget, businessId: string): Promise<{ business_id: string; usage_plan_id: string }> {
  const keyId = await ensureApiKey(businessId);
  const current = await plansOfKey(keyId);
  if (current.length > 0) return { business_id: businessId, usage_plan_id: current[0]!.id! };
  await apigw().send(new CreateUsagePlanKeyCommand({ usagePlanId: target.defaultPlanId, keyId, keyType: 'API_KEY' }));
  return { business_id: businessId, usage_plan_id: target.defaultPlanId };
}

/** Moves a business to the tier plan of `rate` requests a second (bursts of `burst`), creating the tier if needed. */
export async function setRateLimit(
  target: UsagePlanTarget,
  businessId: string,
  rate: number,
  burst: number,
): Promise<{ business_id: string; usage_plan_id: string; rate_limit: number; burst_limit: number }> {
  if (!Number.isFinite(rate) || rate <= 0 || !Number.isInteger(burst) || burst < 1) throw new Error('--rate must be > 0 and --burst a whole number >= 1');
  const keyId = await ensureApiKey(businessId);
  const tier = await ensureTierPlan(target, rate, burst);
  const current = await plansOfKey(keyId);
  if (!current.some((plan) => plan.id === tier)) {
    await apigw().send(new CreateUsagePlanKeyCommand({ usagePlanId: tier, keyId, keyType: 'API_KEY' }));
  }
  // Added to the new plan first: between the two calls the key is in both, never in none (a
  // business without a plan would be refused while `apiKeyRequired` is on).
  for (const plan of current) {
    if (plan.id !== tier) await apigw().send(new DeleteUsagePlanKeyCommand({ usagePlanId: plan.id!, keyId }));
  }
  return { business_id: businessId, usage_plan_id: tier, rate_limit: rate, burst_limit: burst };
}

async function ensureApiKey(businessId: string): Promise<string> {
  try {
    const created = await apigw().send(new CreateApiKeyCommand({ name: keyName(businessId), value: businessId, enabled: true, description: 'Usage-plan key of a business (its value is the business id)' }));
    return created.id!;
  } catch (error) {
    if (!(error instanceof ConflictException)) throw error;
  }
  const found = await apigw().send(new GetApiKeysCommand({ nameQuery: keyName(businessId), limit: 500 }));
  const key = found.items?.find((item) => item.name === keyName(businessId));
  if (!key?.id) throw new Error(`The API Gateway key of business ${businessId} exists but cannot be found`);
  return key.id;
}

async function plansOfKey(keyId: string): Promise<UsagePlan[]> {
  const plans: UsagePlan[] = [];
  let position: string | undefined;
  do {
    const page = await apigw().send(new GetUsagePlansCommand({ keyId, position, limit: 500 }));
    plans.push(...(page.items ?? []));
    position = page.position;
  } while (position);
  return plans;
}

async function ensureTierPlan(target: UsagePlanTarget, rate: number, burst: number): Promise<string> {
  const name = `card-platform-${target.stage}-tier-r${rate}-b${burst}`;
  let position: string | undefined;
  do {
    const page = await apigw().send(new GetUsagePlansCommand({ position, limit: 500 }));
    const existing = page.items?.find((plan) => plan.name === name);
    if (existing?.id) return existing.id;
    position = page.position;
  } while (position);
  const created = await apigw().send(
    new CreateUsagePlanCommand({
      name,
      description: `Businesses throttled at ${rate} requests/s, bursts of ${burst} (set by npm run admin -- set-rate-limit)`,
      throttle: { rateLimit: rate, burstLimit: burst },
      apiStages: [{ apiId: target.apiId, stage: target.stage }],
    }),
  );
  return created.id!;
}

export function resetUsagePlanClientForTests(): void {
  client = undefined;
}

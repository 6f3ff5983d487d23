/**
 * shared/config.ts: the variables every function reads at cold start, checked by hand (no zod in
 * the bundles that need none), with the defaults and the variable named in every refusal.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { config, resetConfigForTests } from '../../../shared/config.ts';
import { DEFAULT_HOLD_EXPIRY } from '../../../shared/domain/hold-expiry.ts';

const saved = { ...process.env };

function withEnvironment(variables: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(variables)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  resetConfigForTests();
}

describe('config', () => {
  beforeEach(() => resetConfigForTests());
  afterEach(() => {
    process.env = { ...saved };
    resetConfigForTests();
  });

  it('fills the defaults of what is unset', () => {
    withEnvironment({ STAGE: undefined, CARD_BIN: undefined, HOLD_EXPIRY_DAYS: undefined, WEBHOOK_TIMEOUT_MS: undefined, WEBHOOK_PRIVATE_ADDRESSES: undefined });
    expect(config()).toMatchObject({
      STAGE: 'sandbox',
      CARD_BIN: '356772',
      FX_RATE_MAX_AGE_SECONDS: 86_400,
      WEBHOOK_TIMEOUT_MS: 10_000,
      WEBHOOK_RETRY_DELAY_SCALE: 1,
      WEBHOOK_SWEEP_GRACE_SECONDS: 120,
      WEBHOOK_SWEEP_LIMIT: 200,
      WEBHOOK_PRIVATE_ADDRESSES: 'deny',
      BUSINESS_CONTROLS_CACHE_SECONDS: 30,
      HOLD_EXPIRY_DAYS: DEFAULT_HOLD_EXPIRY,
      HOLD_EXPIRY_SWEEP_SECONDS: 240,
      HOLD_EXPIRY_SWEEP_CONCURRENCY: 16,
      POWERTOOLS_SERVICE_NAME: 'card-platform',
    });
  });

  it('reads numbers, fractions where allowed, and the hold-expiry policy as JSON', () => {
    withEnvironment({ WEBHOOK_TIMEOUT_MS: '400', WEBHOOK_RETRY_DELAY_SCALE: '0.5', BUSINESS_CONTROLS_CACHE_SECONDS: '0', HOLD_EXPIRY_DAYS: '{"defaultDays":5,"daysByMcc":{"7011":20}}' });
    expect(config()).toMatchObject({ WEBHOOK_TIMEOUT_MS: 400, WEBHOOK_RETRY_DELAY_SCALE: 0.5, BUSINESS_CONTROLS_CACHE_SECONDS: 0, HOLD_EXPIRY_DAYS: { defaultDays: 5, daysByMcc: { '7011': 20 } } });
  });

  it('names every variable it refuses, in one error', () => {
    withEnvironment({ TABLE_NAME: '', STAGE: 'staging', CARD_BIN: '411111', WEBHOOK_TIMEOUT_MS: '10s', WEBHOOK_SWEEP_LIMIT: '2.5', FX_RATES_PARAMETER: 'fx-rates' });
    const refusal = (() => {
      try {
        config();
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(refusal).toMatch(/^Invalid configuration: /);
    for (const name of ['TABLE_NAME: is required', 'STAGE: must be one of sandbox, production', 'CARD_BIN: must be a 6-digit JCB BIN', 'WEBHOOK_TIMEOUT_MS: must be an integer from 100 to 30000', 'WEBHOOK_SWEEP_LIMIT: must be an integer', 'FX_RATES_PARAMETER: must be an SSM parameter name']) {
      expect(refusal).toContain(name);
    }
  });

  it('refuses a hold-expiry policy that is not JSON or has a bad MCC or day count', () => {
    for (const text of ['7', '{"defaultDays":7', '{"defaultDays":0,"daysByMcc":{}}', '{"defaultDays":7,"daysByMcc":{"hotel":30}}', '{"defaultDays":7,"daysByMcc":{"7011":91}}']) {
      withEnvironment({ HOLD_EXPIRY_DAYS: text });
      expect(() => config(), text).toThrow(/HOLD_EXPIRY_DAYS: must be JSON such as/);
    }
  });

  it('requires the key of its key source, and KMS keys in production', () => {
    withEnvironment({ KEY_SOURCE: 'kms', KMS_KEY_ARN: undefined });
    expect(() => config()).toThrow('KMS_KEY_ARN is required when KEY_SOURCE=kms');
    withEnvironment({ KEY_SOURCE: 'local', LOCAL_KEY_FILE: undefined });
    expect(() => config()).toThrow('LOCAL_KEY_FILE is required when KEY_SOURCE=local');
    withEnvironment({ KEY_SOURCE: 'local', LOCAL_KEY_FILE: '/tmp/keys.json', STAGE: 'production', WEBHOOK_PRIVATE_ADDRESSES: 'deny' });
    expect(() => config()).toThrow('production must use KMS keys');
  });
});

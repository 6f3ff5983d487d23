/** Choosing a stage: only the two known stages synthesize, each under its own stack name. */
import { describe, expect, it } from 'vitest';
import { routesForStage } from '../../shared/routes.ts';
import {
  DEFAULT_ACCOUNT_CONCURRENCY,
  parameterNames,
  parseCidrList,
  parseStage,
  stackName,
  stageConfig,
  UNRESERVED_CONCURRENCY_MINIMUM,
} from '../../infra/stage-config.ts';

describe('parseStage', () => {
  it.each(['sandbox', 'production'])('accepts %s', (stage) => {
    expect(parseStage(stage)).toBe(stage);
  });

  it.each(['prod', 'Sandbox', '', undefined, 42])('refuses %j with the stages it accepts', (value) => {
    expect(() => parseStage(value)).toThrow(/-c stage=sandbox or -c stage=production/);
  });
});

describe('stageConfig', () => {
  it('issues sandbox cards under BIN 356772 by default', () => {
    expect(stageConfig('sandbox').cardBin).toBe('356772');
  });

  it('takes a JCB BIN override', () => {
    expect(stageConfig('production', { cardBin: '352800' }).cardBin).toBe('352800');
  });

  it.each(['411111', '3527000', '35890'])('refuses %s as a card BIN', (cardBin) => {
    expect(() => stageConfig('sandbox', { cardBin })).toThrow(/JCB BIN/);
  });

  it('takes an alarm e-mail override and refuses what is not an address', () => {
    expect(stageConfig('sandbox', { alarmEmail: 'ops@example.com' }).alarmEmail).toBe('ops@example.com');
    expect(() => stageConfig('sandbox', { alarmEmail: 'ops' })).toThrow(/not an e-mail address/);
  });

  it.each(['sandbox', 'production'] as const)('reserves concurrency on %s only for its routes, leaving the unreserved minimum', (stage) => {
    const { reservedConcurrency } = stageConfig(stage);
    const routes = routesForStage(stage).map((row) => `${row.method} ${row.path}`);
    for (const route of Object.keys(reservedConcurrency)) expect(routes).toContain(route);
    const total = Object.values(reservedConcurrency).reduce((sum, value) => sum + value, 0);
    expect(total).toBeLessThanOrEqual(DEFAULT_ACCOUNT_CONCURRENCY - UNRESERVED_CONCURRENCY_MINIMUM);
  });

  it('reserves capacity for the card network in production, and none in a sandbox', () => {
    expect(stageConfig('production').reservedConcurrency['POST /network/authorizations']).toBe(100);
    expect(stageConfig('sandbox').reservedConcurrency).toEqual({});
  });

  it.each(['sandbox', 'production'] as const)('bounds webhook delivery on %s within what SQS allows (2-1000)', (stage) => {
    for (const maximum of Object.values(stageConfig(stage).deliveryConcurrency)) {
      expect(maximum).toBeGreaterThanOrEqual(2);
      expect(maximum).toBeLessThanOrEqual(1000);
    }
  });

  it('ships production by canary with alarm rollback and backs its table up; a sandbox deploys all at once, without backups', () => {
    expect(stageConfig('production')).toMatchObject({
      deployment: { kind: 'canary', trafficShift: 'CANARY_10PERCENT_5MINUTES', rollbackAlarms: 'watch' },
      tableBackups: true,
    });
    expect(stageConfig('sandbox')).toMatchObject({ deployment: { kind: 'all-at-once' }, tableBackups: false });
  });

  it('holds B2B authorizations on escrow shards in a sandbox, and in production only once told (-c escrowHolds=on)', () => {
    expect(stageConfig('sandbox').escrowHolds).toBe('on');
    expect(stageConfig('production').escrowHolds).toBe('off');
    expect(stageConfig('production', { escrowHolds: 'on' }).escrowHolds).toBe('on');
    expect(() => stageConfig('production', { escrowHolds: 'yes' })).toThrow('escrowHolds "yes" must be on or off.');
  });

  it("writes release 3's format in a sandbox, and in production only once told (-c writeFormat=release3)", () => {
    expect(stageConfig('sandbox').writeFormat).toBe('release3');
    expect(stageConfig('production').writeFormat).toBe('release2');
    expect(stageConfig('production', { writeFormat: 'release3' }).writeFormat).toBe('release3');
    expect(() => stageConfig('production', { writeFormat: 'on' })).toThrow('writeFormat "on" must be release2 or release3.');
  });

  it('keeps production data and year-long logs, and lets a sandbox go', () => {
    expect(stageConfig('production')).toMatchObject({ retainData: true, logRetention: 365 });
    expect(stageConfig('sandbox')).toMatchObject({ retainData: false, logRetention: 30 });
  });
});

describe('networkAllowedCidrs', () => {
  it('is unset on both stages unless DevOps sets it', () => {
    expect(stageConfig('sandbox').networkAllowedCidrs).toBeUndefined();
    expect(stageConfig('production').networkAllowedCidrs).toBeUndefined();
  });

  it('takes IPv4 and IPv6 CIDRs as a list or as the comma-separated string `-c` passes', () => {
    expect(stageConfig('production', { networkAllowedCidrs: '203.0.113.0/24, 2001:db8::/32' }).networkAllowedCidrs).toEqual(['203.0.113.0/24', '2001:db8::/32']);
    expect(parseCidrList(['198.51.100.7/32', '2001:db8:0:1::/64', '::1/128'])).toEqual(['198.51.100.7/32', '2001:db8:0:1::/64', '::1/128']);
  });

  it.each([
    [[], /empty/],
    ['', /empty/],
    [42, /list of CIDRs/],
    [['203.0.113.0'], /address\/prefix/],
    [['203.0.113.0/33'], /prefix length from 1 to 32/],
    [['0.0.0.0/0'], /prefix length from 1 to 32/],
    [['2001:db8::/129'], /prefix length from 1 to 128/],
    [['203.0.113.7/24'], /bits set past its prefix/],
    [['2001:db8::1/64'], /bits set past its prefix/],
    [['example.com/24'], /not an IPv4 or IPv6 address/],
    [['::ffff:203.0.113.0/120'], /not an IPv4 or IPv6 address/],
  ])('refuses %j', (value, message) => {
    expect(() => stageConfig('production', { networkAllowedCidrs: value })).toThrow(message);
  });
});

it('names stacks and SSM parameters after the stage', () => {
  expect(stackName('production')).toBe('CardPlatform-production');
  expect(parameterNames('sandbox').tableName).toBe('/card-platform/sandbox/table-name');
});

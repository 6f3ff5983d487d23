/**
 * Operating a stage, as CloudFormation sees it: flows kept apart (reserved concurrency for the card
 * network, bounded webhook delivery, a per-IP rate limit that spares the network).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queues } from '../../functions/routes.ts';
import { RATE_LIMIT_RULE_NAME } from '../../infra/constructs/web-acl.ts';
import { stageConfig, type Stage } from '../../infra/stage-config.ts';
import { ofType, referencedId, synthesize, type Synthesis, type Synthesized } from './support/synth.ts';

const STAGES: Stage[] = ['sandbox', 'production'];
let synthesis: Synthesis;
const stageOf = (stage: Stage): Synthesized => synthesis.stacks[stage]!;

beforeAll(() => {
  synthesis = synthesize({ sandbox: { stage: 'sandbox' }, production: { stage: 'production' } });
});
afterAll(() => synthesis?.dispose());

const logicalIdOf = (stage: Stage, construct: { node: { defaultChild?: unknown } }) => stageOf(stage).stack.getLogicalId(construct.node.defaultChild as never);

describe.each(STAGES)('the %s stack', (stage) => {
  const config = stageConfig(stage);

  describe('isolation between flows', () => {
    it("reserves the stage's concurrency for the card network's routes, and for nothing else", () => {
      const { template } = stageOf(stage);
      const reserved = Object.fromEntries(
        ofType(template, 'AWS::Lambda::Function')
          .filter(([, props]) => props.ReservedConcurrentExecutions !== undefined)
          .map(([, props]) => [props.Description, props.ReservedConcurrentExecutions]),
      );
      expect(reserved).toEqual(config.reservedConcurrency);
      for (const route of Object.keys(reserved)) expect(route.startsWith('POST /network/'), route).toBe(true);
    });

    it("caps each webhook queue's delivery function at the stage's maximum concurrency", () => {
      const { template, stack } = stageOf(stage);
      for (const row of queues) {
        const queueId = logicalIdOf(stage, stack.queues.byName.get(row.name)!.queue);
        const [mapping] = ofType(template, 'AWS::Lambda::EventSourceMapping').filter(([, props]) => referencedId(props.EventSourceArn) === queueId);
        expect(mapping, row.name).toBeDefined();
        expect(mapping![1].ScalingConfig, row.name).toEqual({ MaximumConcurrency: config.deliveryConcurrency[row.name] });
      }
    });

    it('rate-limits each source address on every path but the card network’s, in a rule of its own', () => {
      const [[, webAcl]] = ofType(stageOf(stage).template, 'AWS::WAFv2::WebACL') as [[string, any]];
      const rule = webAcl.Rules.find((candidate: any) => candidate.Name === RATE_LIMIT_RULE_NAME);
      expect(rule.Action).toEqual({ Block: {} });
      const priorities = webAcl.Rules.map((candidate: any) => candidate.Priority);
      expect(new Set(priorities).size).toBe(priorities.length);
      const { RateBasedStatement: rate } = rule.Statement;
      expect(rate).toMatchObject({ AggregateKeyType: 'IP', EvaluationWindowSec: 300, Limit: config.wafRateLimitPer5Minutes });
      const exempt = rate.ScopeDownStatement.NotStatement.Statement.OrStatement.Statements.map((statement: any) => statement.ByteMatchStatement);
      for (const match of exempt) {
        expect(match).toMatchObject({ FieldToMatch: { UriPath: {} }, PositionalConstraint: 'STARTS_WITH', TextTransformations: [{ Priority: 0, Type: 'NONE' }] });
      }
      // Behind a custom domain, and on the default endpoint, whose paths begin with the stage.
      expect(exempt.map((match: any) => match.SearchString).sort()).toEqual(['/network/', `/${stage}/network/`].sort());
      expect(rule.VisibilityConfig.CloudWatchMetricsEnabled).toBe(true);
    });
  });

});


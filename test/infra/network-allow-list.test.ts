/**
 * The optional `/network/...` IP allow list (stage config `networkAllowedCidrs`): a WAF rule that
 * blocks requests for the card network's and chain watcher's routes from any other address, and
 * nothing at all when the stage lists no addresses. The web ACL construct is synthesized on its
 * own, in front of a one-method API, so these specs do not bundle every handler.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { ApiWebAcl, MANAGED_RULE_GROUPS, NETWORK_ALLOW_LIST_RULE, RATE_LIMIT_RULE_NAME } from '../../infra/constructs/web-acl.ts';
import { stageConfig, type StageConfig } from '../../infra/stage-config.ts';
import { ofType, referencedId } from './support/synth.ts';

function synthesizeWebAcl(config: StageConfig): Template {
  const stack = new Stack(new App(), 'WebAclSpec');
  const api = new apigw.RestApi(stack, 'Api', { deployOptions: { stageName: config.stage } });
  api.root.addMethod('GET', new apigw.MockIntegration());
  new ApiWebAcl(stack, 'Firewall', { config, stage: api.deploymentStage, logsKey: new kms.Key(stack, 'LogsKey') });
  return Template.fromStack(stack);
}

function rulesOf(template: Template): any[] {
  const [[, webAcl]] = ofType(template, 'AWS::WAFv2::WebACL') as [[string, any]];
  return webAcl.Rules;
}

const startsWith = (prefix: string) => ({
  ByteMatchStatement: {
    FieldToMatch: { UriPath: {} },
    PositionalConstraint: 'STARTS_WITH',
    SearchString: prefix,
    TextTransformations: [
      { Priority: 0, Type: 'URL_DECODE' },
      { Priority: 1, Type: 'NORMALIZE_PATH' },
    ],
  },
});

describe('the /network/... allow list', () => {
  it('adds no rule and no IP set when the stage lists no addresses', () => {
    const template = synthesizeWebAcl(stageConfig('production'));
    expect(rulesOf(template).map((rule) => rule.Name)).toEqual([...MANAGED_RULE_GROUPS.map((group) => group.name), RATE_LIMIT_RULE_NAME]);
    expect(ofType(template, 'AWS::WAFv2::IPSet')).toEqual([]);
  });

  it('blocks /network/... (on a custom domain or the stage URL) from any address outside the IPv4 and IPv6 sets', () => {
    const template = synthesizeWebAcl(stageConfig('production', { networkAllowedCidrs: '203.0.113.0/24, 198.51.100.7/32,2001:db8:1::/48' }));
    const ipSets = ofType(template, 'AWS::WAFv2::IPSet');
    const byVersion = Object.fromEntries(ipSets.map(([id, props]) => [props.IPAddressVersion, { id, props }]));
    expect(ipSets).toHaveLength(2);
    expect(byVersion.IPV4!.props).toMatchObject({ Scope: 'REGIONAL', Addresses: ['203.0.113.0/24', '198.51.100.7/32'] });
    expect(byVersion.IPV6!.props).toMatchObject({ Scope: 'REGIONAL', Addresses: ['2001:db8:1::/48'] });

    const rule = rulesOf(template).find((candidate) => candidate.Name === NETWORK_ALLOW_LIST_RULE);
    expect(rule).toMatchObject({ Action: { Block: {} }, Priority: MANAGED_RULE_GROUPS.length });
    const [networkPath, notAllowed] = rule.Statement.AndStatement.Statements;
    expect(networkPath).toEqual({ OrStatement: { Statements: [startsWith('/network/'), startsWith('/production/network/')] } });
    const allowed = notAllowed.NotStatement.Statement.OrStatement.Statements.map((statement: any) => referencedId(statement.IPSetReferenceStatement.Arn));
    expect(allowed.sort()).toEqual([byVersion.IPV4!.id, byVersion.IPV6!.id].sort());
  });

  it('references the one IP set directly when every address is of one version', () => {
    const template = synthesizeWebAcl(stageConfig('sandbox', { networkAllowedCidrs: ['192.0.2.0/28'] }));
    const [[ipSetId]] = ofType(template, 'AWS::WAFv2::IPSet') as [[string, any]];
    const rule = rulesOf(template).find((candidate) => candidate.Name === NETWORK_ALLOW_LIST_RULE);
    expect(referencedId(rule.Statement.AndStatement.Statements[1].NotStatement.Statement.IPSetReferenceStatement.Arn)).toBe(ipSetId);
    expect(rule.Statement.AndStatement.Statements[0].OrStatement.Statements[1]).toEqual(startsWith('/sandbox/network/'));
  });
});

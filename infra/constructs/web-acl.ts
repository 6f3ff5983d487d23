/**
 * AWS WAF in front of the API stage (PCI DSS 6.6): AWS managed rule groups for common exploits,
 * known bad inputs and IP reputation, a per-IP rate limit on everything but the card network, and,
 * when the stage lists `networkAllowedCidrs`, a rule that blocks `/network/...` from any other
 * address. Logs keep only blocked and counted requests, with the `Authorization` header and the
 * query string redacted (a card reveal link carries its one-time token there);
 * sampled requests are off because they show headers (API keys) in the console.
 */
import { isIPv4 } from 'node:net';
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { removalPolicyOf, type StageConfig } from '../stage-config.ts';

interface ManagedRuleGroup {
  name: string;
  /** Rules of the group that only count: they would block legitimate server-to-server calls. */
  countOnly?: string[];
}

/** The name of the `/network/...` allow-list rule (and its metric). */
export const NETWORK_ALLOW_LIST_RULE = 'NetworkRoutesFromAllowedAddressesOnly';

export const MANAGED_RULE_GROUPS: ManagedRuleGroup[] = [
  // Card networks' and partners' backends do not always send a User-Agent.
  { name: 'AWSManagedRulesCommonRuleSet', countOnly: ['NoUserAgent_HEADER'] },
  { name: 'AWSManagedRulesKnownBadInputsRuleSet' },
  { name: 'AWSManagedRulesAmazonIpReputationList' },
];

/** After the managed groups (0-2), apart from any other rule's priority. */
export const RATE_LIMIT_RULE_PRIORITY = 20;
export const RATE_LIMIT_RULE_NAME = 'PerIpRateLimit';

/**
 * A flood guard: one source address may make `wafRateLimitPer5Minutes` requests in any 5 minutes;
 * beyond that WAF blocks it (API Gateway's `WAF_FILTERED` response, a 403) until its rate falls.
 *
 * The card network's paths (`/network/...`) are exempt: its processor sends every cardholder's
 * authorizations from a few addresses, and a declined-by-timeout payment is worse than load. Every
 * other path counts, unknown ones included, so a scanner gets no free requests. WAF sees the path
 * with the stage prefix on the default execute-api endpoint (`/production/network/...`) and without
 * it behind a custom domain, hence both prefixes; a path that only looks like the network's after
 * decoding (`/%6Eetwork/`) is not exempt, because the match is on the raw path. Per-business limits
 * are usage plans' job, not this rule's.
 */
export function perIpRateLimitRule(stage: string, limit: number, visibilityConfig: wafv2.CfnWebACL.VisibilityConfigProperty): wafv2.CfnWebACL.RuleProperty {
  const pathStartsWith = (prefix: string): wafv2.CfnWebACL.StatementProperty => ({
    byteMatchStatement: {
      fieldToMatch: { uriPath: {} },
      positionalConstraint: 'STARTS_WITH',
      searchString: prefix,
      textTransformations: [{ priority: 0, type: 'NONE' }],
    },
  });
  return {
    name: RATE_LIMIT_RULE_NAME,
    priority: RATE_LIMIT_RULE_PRIORITY,
    action: { block: {} },
    statement: {
      rateBasedStatement: {
        limit,
        aggregateKeyType: 'IP',
        evaluationWindowSec: 300,
        scopeDownStatement: {
          notStatement: { statement: { orStatement: { statements: [pathStartsWith('/network/'), pathStartsWith(`/${stage}/network/`)] } } },
        },
      },
    },
    visibilityConfig,
  };
}

export interface ApiWebAclProps {
  config: StageConfig;
  stage: apigw.Stage;
  logsKey: kms.IKey;
}

export class ApiWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiWebAclProps) {
    super(scope, id);
    const { stage } = props.config;
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: false,
      metricName,
    });

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: `Card platform API, ${stage} stage`,
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`card-platform-${stage}`),
      rules: [
        ...MANAGED_RULE_GROUPS.map((group, priority) => ({
          name: group.name,
          priority,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: group.name,
              ruleActionOverrides: group.countOnly?.map((rule) => ({ name: rule, actionToUse: { count: {} } })),
            },
          },
          visibilityConfig: visibility(`card-platform-${stage}-${group.name}`),
        })),
        ...(props.config.networkAllowedCidrs
          ? [
              {
                name: NETWORK_ALLOW_LIST_RULE,
                priority: MANAGED_RULE_GROUPS.length,
                action: { block: {} },
                statement: {
                  andStatement: {
                    statements: [networkPathStatement(stage), { notStatement: { statement: this.allowedAddresses(props.config.networkAllowedCidrs) } }],
                  },
                },
                visibilityConfig: visibility(`card-platform-${stage}-${NETWORK_ALLOW_LIST_RULE}`),
              },
            ]
          : []),
        perIpRateLimitRule(stage, props.config.wafRateLimitPer5Minutes, visibility(`card-platform-${stage}-${RATE_LIMIT_RULE_NAME}`)),
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    // WAF only delivers to log groups named `aws-waf-logs-*`.
    const logGroupName = `aws-waf-logs-card-platform-${stage}`;
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName,
      retention: props.config.logRetention,
      encryptionKey: props.logsKey,
      removalPolicy: removalPolicyOf(props.config),
    });
    const logging = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // WAF wants the ARN without the `:*` suffix of the log group's Arn attribute.
      logDestinationConfigs: [
        Stack.of(this).formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { queryString: {} }],
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [
          {
            Behavior: 'KEEP',
            Requirement: 'MEETS_ANY',
            Conditions: [{ ActionCondition: { Action: 'BLOCK' } }, { ActionCondition: { Action: 'COUNT' } }],
          },
        ],
      },
    });
    logging.node.addDependency(logGroup);
  }

  /** One IP set per address version (WAF's rule), referenced together when both are listed. */
  private allowedAddresses(cidrs: string[]): wafv2.CfnWebACL.StatementProperty {
    const versions = [
      { version: 'IPV4', addresses: cidrs.filter((cidr) => isIPv4(cidr.split('/')[0]!)) },
      { version: 'IPV6', addresses: cidrs.filter((cidr) => !isIPv4(cidr.split('/')[0]!)) },
    ].filter((set) => set.addresses.length > 0);
    const references = versions.map(({ version, addresses }) => {
      const ipSet = new wafv2.CfnIPSet(this, `NetworkAllowList${version}`, {
        scope: 'REGIONAL',
        ipAddressVersion: version,
        addresses,
        description: 'Where the card network and the chain watcher may call /network/... from',
      });
      return { ipSetReferenceStatement: { arn: ipSet.attrArn } };
    });
    return references.length === 1 ? references[0]! : { orStatement: { statements: references } };
  }
}

/**
 * Requests for the `/network/...` routes. WAF sees the path the client sent: `/network/...` on a
 * custom domain mapped to the stage, `/<stage>/network/...` on the stage's own execute-api URL; it
 * is URL-decoded and normalized first (`//network/`, `/./network/`), so no spelling API Gateway
 * would still route slips past.
 */
function networkPathStatement(stage: string): wafv2.CfnWebACL.StatementProperty {
  const startsWith = (prefix: string) => ({
    byteMatchStatement: {
      fieldToMatch: { uriPath: {} },
      positionalConstraint: 'STARTS_WITH',
      searchString: prefix,
      textTransformations: [
        { priority: 0, type: 'URL_DECODE' },
        { priority: 1, type: 'NORMALIZE_PATH' },
      ],
    },
  });
  return { orStatement: { statements: [startsWith('/network/'), startsWith(`/${stage}/network/`)] } };
}

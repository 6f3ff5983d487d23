/**
 * AWS WAF in front of the API stage (PCI DSS 6.6): AWS managed rule groups for common exploits,
 * known bad inputs and IP reputation. Logs keep only blocked and counted requests, with the
 * `Authorization` header redacted; sampled requests are off because they show headers (API keys)
 * in the console.
 */
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

export const MANAGED_RULE_GROUPS: ManagedRuleGroup[] = [
  // Card networks' and partners' backends do not always send a User-Agent.
  { name: 'AWSManagedRulesCommonRuleSet', countOnly: ['NoUserAgent_HEADER'] },
  { name: 'AWSManagedRulesKnownBadInputsRuleSet' },
  { name: 'AWSManagedRulesAmazonIpReputationList' },
];

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
      rules: MANAGED_RULE_GROUPS.map((group, priority) => ({
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
      redactedFields: [{ singleHeader: { Name: 'authorization' } }],
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
}

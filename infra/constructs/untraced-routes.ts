/**
 * Routes whose URL carries a secret (a card reveal link's token, in its query string) are never
 * traced. API Gateway's X-Ray segment records the request's whole URL, query string included, and
 * a trace is readable by far more people than the card data the token opens. API Gateway samples by
 * the account's X-Ray sampling rules, so one rule per such route, at the highest priority, samples
 * none of its requests: no API Gateway segment, and the function downstream is not sampled either.
 *
 * The other places a URL could land are closed elsewhere: access logs carry `$context.path` (no
 * query string) and never the request's parameters (platform-api.ts), execution logs are ERROR level
 * without data trace, and WAF logs redact the query string (web-acl.ts).
 */
import * as xray from 'aws-cdk-lib/aws-xray';
import { Construct } from 'constructs';
import type { RouteRow } from '../../shared/routes.ts';
import type { StageConfig } from '../stage-config.ts';

/** X-Ray evaluates sampling rules lowest priority number first; the default rule is 10000. */
export const UNTRACED_RULE_PRIORITY = 1;

export class UntracedRoutes extends Construct {
  constructor(scope: Construct, id: string, props: { config: StageConfig; routes: readonly RouteRow[] }) {
    super(scope, id);
    props.routes
      .filter((row) => row.operation.secretInUrl)
      .forEach((row, index) => {
        new xray.CfnSamplingRule(this, `Rule${index}`, {
          samplingRule: {
            // At most 32 characters, unique in the account and region.
            ruleName: `cp-${props.config.stage}-untraced-${index}`,
            priority: UNTRACED_RULE_PRIORITY,
            fixedRate: 0,
            reservoirSize: 0,
            serviceName: '*',
            serviceType: '*',
            host: '*',
            httpMethod: row.method,
            // With or without the stage's name in front (API Gateway's domain, or a custom domain).
            urlPath: `*${row.path}*`,
            resourceArn: '*',
            version: 1,
          },
        });
      });
  }
}

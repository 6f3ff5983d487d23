/**
 * API Gateway's account-level CloudWatch role, which execution logging needs.
 *
 * It is one setting per account and region, shared by every REST API there (a sandbox and a
 * production stage deployed side by side overwrite each other's setting with equivalent roles).
 * So, as CDK's own `cloudWatchRole` does, it is retained when a stack is deleted, and its policy
 * covers every API's execution log groups rather than just this one's. Unlike CDK's, it uses a
 * customer-managed policy with explicit actions instead of `AmazonAPIGatewayPushToCloudWatchLogs`.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ManagedPolicyRole } from './managed-policy-role.ts';

export class ApiGatewayAccount extends Construct {
  readonly role: ManagedPolicyRole;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const { partition, region, account } = Stack.of(this);
    this.role = new ManagedPolicyRole(this, 'CloudWatchRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway execution logging for the REST APIs of this account and region',
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:DescribeLogGroups',
          'logs:DescribeLogStreams',
          'logs:PutLogEvents',
          'logs:GetLogEvents',
          'logs:FilterLogEvents',
        ],
        resources: [`arn:${partition}:logs:${region}:${account}:log-group:API-Gateway-Execution-Logs_*`],
      }),
    );
    const cfnAccount = new apigw.CfnAccount(this, 'Account', { cloudWatchRoleArn: this.role.roleArn });
    cfnAccount.node.addDependency(this.role);
    for (const resource of [this.role, this.role.managedPolicy, cfnAccount]) resource.applyRemovalPolicy(RemovalPolicy.RETAIN);
  }
}

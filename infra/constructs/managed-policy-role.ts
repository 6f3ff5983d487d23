/**
 * An IAM role whose permissions live in one customer-managed policy instead of an inline policy.
 *
 * CDK puts every grant into an inline `DefaultPolicy`; PCI DSS 7.x checks (cdk-nag
 * `PCI.DSS.321-IAMNoInlinePolicy`) want versioned, reviewable managed policies. Every
 * `grant*()` and every statement CDK adds itself (X-Ray, event sources, destinations) ends up in
 * this role's single managed policy.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export class ManagedPolicyRole extends iam.Role {
  readonly managedPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: iam.RoleProps) {
    super(scope, id, props);
    this.managedPolicy = new iam.ManagedPolicy(this, 'Policy', { roles: [this] });
  }

  override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.managedPolicy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.managedPolicy };
  }
}

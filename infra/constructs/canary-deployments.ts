/**
 * Gradual, self-reverting releases of a stage that deploys by canary: one CodeDeploy deployment
 * group per function's `live` alias. When a deploy publishes a new version of a function,
 * CloudFormation hands the alias update to CodeDeploy, which sends the stage's share of traffic
 * (10%) to the new version, waits (5 minutes), then moves the rest; if one of the group's alarms
 * fires meanwhile, it points the alias back at the previous version, the alias update fails and
 * CloudFormation rolls the whole stack update back.
 *
 * One group per alias because CodeDeploy runs one deployment per group at a time, and a stack
 * update moves every changed alias at once.
 *
 * The groups sit next to their aliases (the root stack's authorizers, each nested function stack's
 * functions: function-stacks.ts), one CodeDeploy application for the stage. A group names its
 * rollback alarms by their fixed names rather than by reference: the alarms (root stack) read the
 * functions' metrics, so a reference back from a nested stack would make a cycle.
 */
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { TrafficShift } from '../stage-config.ts';
import { ManagedPolicyRole } from './managed-policy-role.ts';

/** A `live` alias and the alarms that should undo a new version of its function. */
export interface CanaryDeployment {
  /** Unique construct id, e.g. the function's. */
  id: string;
  alias: lambda.Alias;
  /** Names of the alarms (PlatformAlarms: `CardPlatform-<stage>-<slug>`). */
  rollbackAlarmNames: string[];
}

export interface CanaryDeploymentsProps {
  /** The stage's CodeDeploy application; made here when not given. */
  application?: codedeploy.ILambdaApplication;
  trafficShift: TrafficShift;
  /** `ignore`: this deploy shifts traffic without watching the alarms (a fix during an incident). */
  rollbackAlarms: 'watch' | 'ignore';
  deployments: readonly CanaryDeployment[];
}

/** CodeDeploy allows at most 10 alarms per deployment group. */
const ALARMS_PER_GROUP = 10;

export class CanaryDeployments extends Construct {
  readonly application: codedeploy.ILambdaApplication;
  readonly role: TrafficShiftRole;
  readonly groups = new Map<lambda.Alias, codedeploy.LambdaDeploymentGroup>();

  constructor(scope: Construct, id: string, props: CanaryDeploymentsProps) {
    super(scope, id);
    this.application = props.application ?? new codedeploy.LambdaApplication(this, 'Application');
    this.role = new TrafficShiftRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      description: 'CodeDeploy: shifts traffic between versions of the card platform functions',
    });
    const deploymentConfig = codedeploy.LambdaDeploymentConfig[props.trafficShift];

    for (const deployment of props.deployments) {
      if (deployment.rollbackAlarmNames.length > ALARMS_PER_GROUP) throw new Error(`${deployment.id}: at most ${ALARMS_PER_GROUP} rollback alarms`);
      const group = new codedeploy.LambdaDeploymentGroup(this, deployment.id, {
        application: this.application,
        alias: deployment.alias,
        deploymentConfig,
        role: this.role,
        alarms: deployment.rollbackAlarmNames.map((name, index) => cw.Alarm.fromAlarmName(this, `${deployment.id}RollbackAlarm${index}`, name)),
        ignoreAlarmConfiguration: props.rollbackAlarms === 'ignore',
        autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      });
      this.groups.set(deployment.alias, group);
    }

    // What a traffic shift does: read and move each alias (and check it has no provisioned
    // concurrency to warm first), and read the state of the rollback alarms.
    const aliases = props.deployments.map((deployment) => deployment.alias.functionArn);
    if (aliases.length > 0) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:GetProvisionedConcurrencyConfig'], resources: aliases }),
      );
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] }));
    }
  }
}

/**
 * CodeDeploy's service role. CDK's LambdaDeploymentGroup attaches the AWS managed policy
 * AWSCodeDeployRoleForLambdaLimited to whatever role it is given, which may move any alias of
 * any function in the account and invoke hook functions; this role declines AWS managed policies
 * and holds only the statements above, on this stack's aliases.
 */
export class TrafficShiftRole extends ManagedPolicyRole {
  override addManagedPolicy(policy: iam.IManagedPolicy): void {
    if (policy.managedPolicyArn.includes(':iam::aws:policy/')) return;
    super.addManagedPolicy(policy);
  }
}

/**
 * AWS Backup of the table, on top of point-in-time recovery (any second of the last 35 days): a
 * daily backup kept 35 days and a monthly one kept a year, in a vault of its own.
 *
 * - The vault has its own rotating KMS key (backups with DynamoDB's advanced AWS Backup features
 *   are encrypted with it; without them, DynamoDB keeps them under the table's key) and, like the
 *   table, outlives the stack in production.
 * - Its access policy denies every principal the calls that delete a recovery point or shorten its
 *   lifecycle, so erasing history takes changing the vault's policy first (a visible, CloudTrailed
 *   act); expiry by the plan's lifecycle stays AWS Backup's own.
 * - Vault and plan are named after the stage, since operators restore from them by name.
 * - The selection's role gets the DynamoDB and KMS actions AWS Backup's managed policy grants for
 *   DynamoDB, on this table and these keys only, instead of that policy (every service, every
 *   resource). It cannot restore: restoring is an operator's act, with the operator's rights.
 */
import { Duration } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { removalPolicyOf, type StageConfig } from '../stage-config.ts';
import { ManagedPolicyRole } from './managed-policy-role.ts';
import { accountKeyPolicy } from './platform-keys.ts';

/** When and for how long: rule name, schedule (UTC) and retention. */
export const BACKUP_RULES = [
  { ruleName: 'Daily', schedule: { hour: '3', minute: '0' }, keep: Duration.days(35) },
  { ruleName: 'Monthly', schedule: { day: '1', hour: '3', minute: '0' }, keep: Duration.days(365) },
] as const;

export interface TableBackupsProps {
  config: StageConfig;
  table: dynamodb.ITable;
  /** The table's encryption key, which AWS Backup uses through DynamoDB to read it. */
  tableKey: kms.IKey;
}

export class TableBackups extends Construct {
  readonly key: kms.Key;
  readonly vault: backup.BackupVault;
  readonly plan: backup.BackupPlan;
  readonly role: ManagedPolicyRole;

  constructor(scope: Construct, id: string, props: TableBackupsProps) {
    super(scope, id);
    const { stage } = props.config;
    const removalPolicy = removalPolicyOf(props.config);
    const { table, tableKey } = props;

    this.key = new kms.Key(this, 'Key', {
      description: `Card platform (${stage}): table backups`,
      alias: `alias/card-platform-${stage}-backups`,
      enableKeyRotation: true,
      policy: accountKeyPolicy(),
      removalPolicy,
    });
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: `card-platform-${stage}-table`,
      encryptionKey: this.key,
      blockRecoveryPointDeletion: true,
      removalPolicy,
    });
    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: `card-platform-${stage}-table`,
      backupVault: this.vault,
      backupPlanRules: BACKUP_RULES.map(
        (rule) => new backup.BackupPlanRule({ ruleName: rule.ruleName, scheduleExpression: events.Schedule.cron(rule.schedule), deleteAfter: rule.keep }),
      ),
    });

    this.role = new ManagedPolicyRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: `AWS Backup: backs up the card platform table (${stage})`,
    });
    const statements = [
      new iam.PolicyStatement({
        actions: ['dynamodb:DescribeTable', 'dynamodb:CreateBackup', 'dynamodb:StartAwsBackupJob', 'dynamodb:ListTagsOfResource'],
        resources: [table.tableArn],
      }),
      // Backup ARNs are made per backup: the role may describe and expire only this table's.
      new iam.PolicyStatement({ actions: ['dynamodb:DescribeBackup', 'dynamodb:DeleteBackup'], resources: [`${table.tableArn}/backup/*`] }),
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [tableKey.keyArn],
        conditions: { StringLike: { 'kms:ViaService': 'dynamodb.*.amazonaws.com' } },
      }),
      new iam.PolicyStatement({ actions: ['kms:DescribeKey'], resources: [tableKey.keyArn, this.key.keyArn] }),
      new iam.PolicyStatement({
        actions: ['kms:CreateGrant'],
        resources: [tableKey.keyArn, this.key.keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    ];
    for (const statement of statements) this.role.addToPrincipalPolicy(statement);
    this.plan.addSelection('Table', { resources: [backup.BackupResource.fromDynamoDbTable(table)], role: this.role, disableDefaultBackupPolicy: true });
  }
}

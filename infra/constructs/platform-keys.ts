/**
 * The platform's keys: the customer-managed KMS key of envelope encryption (PAN, CVV, eKYC,
 * webhook secrets; also the table's and the HMAC secret's encryption at rest), a separate key for
 * CloudWatch Logs, and the HMAC key as a generated Secrets Manager secret.
 *
 * Key policies are written out action by action instead of CDK's default `kms:*` for the account:
 * the account root (that is, IAM policies in this account) may administer the key and use it, and
 * each function's IAM policy then grants exactly the operations its route row asks for.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { removalPolicyOf, type StageConfig } from '../stage-config.ts';

/** What a key's administrators (CloudFormation, operators with IAM rights) may do. */
const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListAliases',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListKeyRotations',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RevokeGrant',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

/**
 * Cryptographic use, delegated to IAM: a principal of this account can use the key only if its
 * own IAM policy also allows it. `CreateGrant`/`RetireGrant` are how DynamoDB and Secrets Manager
 * use a customer-managed key on a caller's behalf.
 */
const KEY_USE_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:CreateGrant',
  'kms:RetireGrant',
];

function accountKeyPolicy(): iam.PolicyDocument {
  const account = new iam.AccountRootPrincipal();
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({ sid: 'KeyAdministration', principals: [account], actions: KEY_ADMIN_ACTIONS, resources: ['*'] }),
      new iam.PolicyStatement({ sid: 'KeyUseThroughIam', principals: [account], actions: KEY_USE_ACTIONS, resources: ['*'] }),
    ],
  });
}

export interface PlatformKeysProps {
  config: StageConfig;
}

export class PlatformKeys extends Construct {
  /** Envelope encryption of secrets at rest, and the table's and HMAC secret's encryption. */
  readonly dataKey: kms.Key;
  /** CloudWatch Logs encryption (PCI DSS 3.4); the logs service must never hold the data key. */
  readonly logsKey: kms.Key;
  /** The HMAC key of every keyed hash (API keys, PAN index, eKYC fingerprints, OTPs, cursors). */
  readonly hmacSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: PlatformKeysProps) {
    super(scope, id);
    const { stage } = props.config;
    const removalPolicy = removalPolicyOf(props.config);

    this.dataKey = new kms.Key(this, 'DataKey', {
      description: `Card platform (${stage}): envelope encryption of card and eKYC data, table and HMAC secret`,
      alias: `alias/card-platform-${stage}-data`,
      enableKeyRotation: true,
      policy: accountKeyPolicy(),
      removalPolicy,
    });

    const { region, account } = Stack.of(this);
    this.logsKey = new kms.Key(this, 'LogsKey', {
      description: `Card platform (${stage}): CloudWatch Logs encryption`,
      alias: `alias/card-platform-${stage}-logs`,
      enableKeyRotation: true,
      policy: accountKeyPolicy(),
      removalPolicy,
    });
    this.logsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Stack.of(this).partition}:logs:${region}:${account}:log-group:*` },
        },
      }),
    );

    this.hmacSecret = new secretsmanager.Secret(this, 'HmacSecret', {
      description: `Card platform (${stage}): HMAC key of keyed hashes (API keys, PAN index, eKYC, OTP, cursors)`,
      // By reference: given the Key construct itself, Secret adds its own key-policy statements
      // (with `kms:GenerateDataKey*`-style wildcards) that the account statements already cover.
      encryptionKey: kms.Key.fromKeyArn(this, 'DataKeyOfSecret', this.dataKey.keyArn),
      // 64 alphanumerics: ~380 bits, read by shared/crypto/key-material.ts as UTF-8 bytes.
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
  }
}

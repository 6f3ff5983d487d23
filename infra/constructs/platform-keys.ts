/**
 * The platform's keys: the customer-managed KMS key of envelope encryption (PAN, CVV, eKYC,
 * webhook secrets; also the table's encryption at rest), a separate key for CloudWatch Logs, and
 * one KMS HMAC key per keyed-hash purpose (shared/crypto/keyed-hash.ts), whose material never
 * leaves KMS.
 *
 * Key policies are written out action by action instead of CDK's default `kms:*` for the account:
 * the account root (that is, IAM policies in this account) may administer the key and use it, and
 * each function's IAM policy then grants exactly the operations its route row asks for.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { MAC_PURPOSES, type MacPurpose } from '../../shared/crypto/keyed-hash.ts';
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

/** An HMAC key's only cryptographic use. */
const MAC_KEY_USE_ACTIONS = ['kms:GenerateMac', 'kms:VerifyMac'];

/**
 * A key policy that administers the key from this account and delegates its use to IAM: a
 * principal of the account may use the key only if its own policy also allows it.
 */
export function accountKeyPolicy(useActions: string[] = KEY_USE_ACTIONS): iam.PolicyDocument {
  const account = new iam.AccountRootPrincipal();
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({ sid: 'KeyAdministration', principals: [account], actions: KEY_ADMIN_ACTIONS, resources: ['*'] }),
      new iam.PolicyStatement({ sid: 'KeyUseThroughIam', principals: [account], actions: useActions, resources: ['*'] }),
    ],
  });
}

export interface PlatformKeysProps {
  config: StageConfig;
}

export class PlatformKeys extends Construct {
  /** Envelope encryption of secrets at rest, and the table's encryption. */
  readonly dataKey: kms.Key;
  /** CloudWatch Logs encryption (PCI DSS 3.4); the logs service must never hold the data key. */
  readonly logsKey: kms.Key;
  /**
   * One HMAC key per keyed-hash purpose, so holding one (the authorizers' credential key, say)
   * computes nothing of another (the PAN index). Each is used only through `kms:GenerateMac` by the
   * rows that list its purpose.
   */
  readonly macKeys: ReadonlyMap<MacPurpose, kms.Key>;

  constructor(scope: Construct, id: string, props: PlatformKeysProps) {
    super(scope, id);
    const { stage } = props.config;
    const removalPolicy = removalPolicyOf(props.config);

    this.dataKey = new kms.Key(this, 'DataKey', {
      description: `Card platform (${stage}): envelope encryption of card and eKYC data, and the table`,
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

    // KMS cannot rotate HMAC keys: a new key means every stored hash of that purpose must be
    // recomputed, so keys are versioned by alias (`-v1`) and a rotation runs both versions side by
    // side during the migration (README: "Security and PCI DSS stance").
    const macKeys = new Map<MacPurpose, kms.Key>();
    for (const purpose of MAC_PURPOSES) {
      macKeys.set(
        purpose,
        new kms.Key(this, `MacKey-${purpose}`, {
          description: `Card platform (${stage}): HMAC key of the "${purpose}" keyed hashes`,
          alias: `alias/card-platform-${stage}-mac-${purpose}-v1`,
          keySpec: kms.KeySpec.HMAC_256,
          keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
          policy: accountKeyPolicy(MAC_KEY_USE_ACTIONS),
          removalPolicy,
        }),
      );
    }
    this.macKeys = macKeys;
  }
}

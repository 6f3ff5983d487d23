/**
 * Least privilege from a route row's `access` (shared/routes.ts): each function's role gets
 * exactly the table, key, secret, queue and parameter permissions its row names, as explicit action lists
 * (no `dynamodb:*`, no `kms:GenerateDataKey*`), and the environment variables that go with them.
 * No role may update or delete a ledger posting or a card audit event.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Access, QueueName } from '../../shared/routes.ts';
import { macKeyVariable, type MacPurpose } from '../../shared/crypto/keyed-hash.ts';
import { APPEND_ONLY_PARTITIONS, DELETABLE_PARTITIONS } from '../../shared/db/keys.ts';
import type { OperatorSetting } from '../../shared/services/operator-settings.ts';

/** Reads a request path may do: single items, batches of known keys, and queries. Never Scan. */
export const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
/**
 * Inserts and updates, including the condition checks of TransactWriteItems. No BatchWriteItem
 * (nothing batches writes, and it deletes too); DeleteItem only per row, on the partitions it names.
 */
export const TABLE_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'];
/** What no role may do to a ledger posting or a card audit event once written. */
export const APPEND_ONLY_DENIED_ACTIONS = ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

/**
 * The table is encrypted with the customer-managed key, so DynamoDB uses that key on its callers'
 * behalf. The `kms:ViaService` condition keeps it that way: these statements never let a function
 * call KMS directly (direct envelope decryption is a separate, per-row grant).
 */
const TABLE_KEY_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'];
const TABLE_KEY_WRITE_ACTIONS = ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'];

/** Environment variable that tells a function where each queue it sends to is. */
export const QUEUE_URL_VARIABLE: Record<QueueName, string> = {
  otp: 'OTP_QUEUE_URL',
  events: 'EVENTS_QUEUE_URL',
};

/** Where a stage keeps one operator setting: its SSM parameters by the variable that names each, and what else goes with them. */
export interface OperatorSettingSource {
  parameters: Record<string, string>;
  environment?: Record<string, string>;
}

export interface PlatformResources {
  table: dynamodb.ITable;
  indexArns: string[];
  dataKey: kms.IKey;
  macKeys: ReadonlyMap<MacPurpose, kms.IKey>;
  queues: ReadonlyMap<QueueName, sqs.IQueue>;
  /** Absent on a stage that uses the sandbox defaults: its functions read no parameter. */
  operatorSettings?: Record<OperatorSetting, OperatorSettingSource>;
}

/** A function that can take grants and environment variables. */
export interface AccessTarget extends iam.IGrantable {
  addEnvironment(name: string, value: string): unknown;
}

export function grantAccess(target: AccessTarget, access: Access, resources: PlatformResources): void {
  const principal = target.grantPrincipal;
  const { table, dataKey } = resources;
  const tableResources = [table.tableArn, ...resources.indexArns];
  const region = Stack.of(table).region;
  const viaDynamoDb = { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } };

  const writes = access.table === 'readWrite';
  // `table: 'none'` (a public row such as the API description): no table statement at all.
  if (access.table !== 'none') {
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: writes ? [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS] : TABLE_READ_ACTIONS,
        resources: tableResources,
      }),
    );
    if (writes) grantAppendOnly(principal, table);
    grantDeletes(principal, access, table);
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: writes ? [...TABLE_KEY_READ_ACTIONS, ...TABLE_KEY_WRITE_ACTIONS] : TABLE_KEY_READ_ACTIONS,
        resources: [dataKey.keyArn],
        conditions: viaDynamoDb,
      }),
    );
  }

  // The AWS Encryption SDK's KMS keyring: a data key per message on encrypt, unwrap on decrypt. It
  // passes the message's encryption context to KMS, so the grant is limited to the purposes the
  // row lists: a function that opens eKYC cannot open a card bundle with the same key.
  const envelopeGrants: [string, string[] | undefined][] = [
    ['kms:GenerateDataKey', access.encrypt],
    ['kms:Decrypt', access.decrypt],
  ];
  for (const [action, purposes] of envelopeGrants) {
    if (!purposes?.length) continue;
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [action],
        resources: [dataKey.keyArn],
        conditions: { StringEquals: { 'kms:EncryptionContext:purpose': [...purposes].sort() } },
      }),
    );
  }

  // Keyed hashes: `GenerateMac` with the HMAC key of each purpose the row lists, and nothing else;
  // the key's material never leaves KMS, so the role can compute a hash but never take the key away.
  for (const purpose of access.macs ?? []) {
    const key = resources.macKeys.get(purpose);
    if (!key) throw new Error(`A row uses MAC purpose "${purpose}", which has no key in PlatformKeys`);
    principal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GenerateMac'], resources: [key.keyArn] }));
    target.addEnvironment(macKeyVariable(purpose), key.keyArn);
  }

  // Operator settings are plain String parameters (nothing secret, so no KMS): GetParameter on
  // exactly the ones the row's settings name; not GetParameters or GetParametersByPath, which
  // would let a function read by prefix.
  for (const setting of access.settings ?? []) {
    const source = resources.operatorSettings?.[setting];
    if (!source) continue;
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: Object.values(source.parameters).map((name) =>
          Stack.of(table).formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, ''), arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
        ),
      }),
    );
    for (const [variable, value] of Object.entries({ ...source.parameters, ...source.environment })) target.addEnvironment(variable, value);
  }

  for (const queueName of access.sendTo ?? []) {
    const queue = resources.queues.get(queueName);
    if (!queue) throw new Error(`A row sends to queue "${queueName}", which is not in the queues table of shared/routes.ts`);
    principal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
    target.addEnvironment(QUEUE_URL_VARIABLE[queueName], queue.queueUrl);
  }
}

/**
 * Ledger postings and card audit events are append-only (shared/db/keys.ts
 * `APPEND_ONLY_PARTITIONS`). IAM sees a request's partition keys as `dynamodb:LeadingKeys`, one
 * per item (each item of a TransactWriteItems is authorized as its own PutItem, UpdateItem or
 * DeleteItem), so an explicit Deny on those prefixes outweighs any Allow a role has or gains
 * later. `ForAnyValue`: one matching key is enough to deny.
 *
 * What IAM cannot do: require a condition expression on PutItem. A role that appends postings
 * could still overwrite one with a raw, unconditional Put. Every Put of a posting or audit event
 * is on `attribute_not_exists(PK)`; an overwrite anyway would show as a MODIFY record on an
 * append-only key in the table's stream, and point-in-time recovery can restore the original.
 */
function grantAppendOnly(principal: iam.IPrincipal, table: dynamodb.ITable): void {
  principal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: APPEND_ONLY_DENIED_ACTIONS,
      resources: [table.tableArn],
      conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': APPEND_ONLY_PARTITIONS.map((prefix) => `${prefix}*`) } },
    }),
  );
}

/**
 * DeleteItem, only in the partitions the row names (`access.deletes`). `ForAllValues` is true of
 * a request without the key at all, hence the `Null` check that it is present.
 */
function grantDeletes(principal: iam.IPrincipal, access: Access, table: dynamodb.ITable): void {
  const partitions = access.deletes ?? [];
  if (!partitions.length) return;
  if (access.table !== 'readWrite') throw new Error('A row that deletes needs table: readWrite');
  principal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:DeleteItem'],
      resources: [table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': partitions.map((name) => `${DELETABLE_PARTITIONS[name]}*`).sort() },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    }),
  );
}

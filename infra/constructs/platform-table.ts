/**
 * The single table, built from shared/db/table-schema.ts so the local stack and AWS have exactly
 * the same keys, indexes, TTL and stream.
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../../shared/db/table-schema.ts';
import { removalPolicyOf, type StageConfig } from '../stage-config.ts';

export interface PlatformTableProps {
  config: StageConfig;
  encryptionKey: kms.IKey;
}

export class PlatformTable extends Construct {
  readonly table: dynamodb.Table;
  /** ARNs of the table's GSIs, named one by one so no IAM resource needs a wildcard. */
  readonly indexArns: string[];

  constructor(scope: Construct, id: string, props: PlatformTableProps) {
    super(scope, id);
    const { retainData } = props.config;
    const string = dynamodb.AttributeType.STRING;

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: string },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: string },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The outbox: state changes and their events commit together, the stream delivers them.
      stream: dynamodb.StreamViewType.NEW_IMAGE,
      timeToLiveAttribute: TABLE_SCHEMA.timeToLiveAttribute,
      deletionProtection: retainData,
      removalPolicy: removalPolicyOf(props.config),
    });
    for (const index of TABLE_SCHEMA.globalIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: string },
        sortKey: { name: index.sortKey, type: string },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    this.indexArns = TABLE_SCHEMA.globalIndexes.map((index) => `${this.table.tableArn}/index/${index.indexName}`);
  }
}

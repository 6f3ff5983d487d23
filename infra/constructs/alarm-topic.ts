/**
 * The one SNS topic every alarm notifies, on entering ALARM and on returning to OK, with an
 * optional e-mail subscriber from the stage config.
 *
 * Encrypted with a key of its own: CloudWatch cannot publish to a topic under the AWS managed SNS
 * key (its policy cannot name CloudWatch), and the platform's data and logs keys must not be
 * usable by another service for this. The topic policy refuses non-TLS publishing and lets only
 * this account's alarms publish: with a topic policy of its own, the topic no longer has SNS's
 * default one, so CloudWatch needs an explicit grant.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { removalPolicyOf, type StageConfig } from '../stage-config.ts';
import { accountKeyPolicy } from './platform-keys.ts';

export interface AlarmTopicProps {
  config: StageConfig;
}

export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const { stage } = props.config;
    const { account, partition, region } = Stack.of(this);
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');

    this.key = new kms.Key(this, 'Key', {
      description: `Card platform (${stage}): alarm notifications`,
      alias: `alias/card-platform-${stage}-alarms`,
      enableKeyRotation: true,
      policy: accountKeyPolicy(),
      removalPolicy: removalPolicyOf(props.config),
    });
    // SNS encrypts each message under a data key; the publisher (CloudWatch) must be able to make one.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [cloudWatch],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
      }),
    );

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `Card platform ${stage} alarms`,
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlarmsOfThisAccount',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
        },
      }),
    );
    if (props.config.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.config.alarmEmail));
  }
}

import { describe, expect, it } from 'vitest';
import { queueUrlVariable } from '../../../infra/local/local-stack.ts';
import { sqsRecord } from '../../../infra/local/queue-poller.ts';
import { lambdaRecord } from '../../../infra/local/stream-poller.ts';

describe('stream records as Lambda delivers them', () => {
  it('has epoch-second timestamps, base64 binaries, the stream ARN and the region', () => {
    const record = lambdaRecord(
      {
        eventID: 'e1',
        eventName: 'INSERT',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'ddblocal',
        dynamodb: {
          ApproximateCreationDateTime: new Date('2025-03-04T03:32:11.000Z'),
          Keys: { PK: { S: 'A' } },
          NewImage: { PK: { S: 'A' }, blob: { B: Uint8Array.from([1, 2, 3]) }, nested: { M: { blobs: { BS: [Uint8Array.from([255])] } } }, n: { N: '12345678901234567890' } },
          SequenceNumber: '100',
          SizeBytes: 10,
          StreamViewType: 'NEW_IMAGE',
        },
      },
      'arn:stream',
      'us-east-1',
    );
    expect(record).toEqual({
      eventID: 'e1',
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:stream',
      dynamodb: {
        ApproximateCreationDateTime: 1741059131,
        Keys: { PK: { S: 'A' } },
        NewImage: { PK: { S: 'A' }, blob: { B: 'AQID' }, nested: { M: { blobs: { BS: ['/w=='] } } }, n: { N: '12345678901234567890' } },
        OldImage: undefined,
        SequenceNumber: '100',
        SizeBytes: 10,
        StreamViewType: 'NEW_IMAGE',
      },
    });
  });
});

describe('SQS records as Lambda delivers them', () => {
  it('carries the message, its attributes in Lambda casing, and the queue ARN', () => {
    const record = sqsRecord(
      {
        MessageId: 'm1',
        ReceiptHandle: 'rh',
        Body: '{"a":1}',
        MD5OfBody: 'md5',
        Attributes: { ApproximateReceiveCount: '2', SentTimestamp: '1', SenderId: 'S', ApproximateFirstReceiveTimestamp: '2' },
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'otp' }, raw: { DataType: 'Binary', BinaryValue: Uint8Array.from([1]) } },
      },
      'arn:queue',
      'us-east-1',
    );
    expect(record).toEqual({
      messageId: 'm1',
      receiptHandle: 'rh',
      body: '{"a":1}',
      md5OfBody: 'md5',
      attributes: { ApproximateReceiveCount: '2', SentTimestamp: '1', SenderId: 'S', ApproximateFirstReceiveTimestamp: '2' },
      messageAttributes: {
        kind: { dataType: 'String', stringValue: 'otp', stringListValues: [], binaryListValues: [] },
        raw: { dataType: 'Binary', binaryValue: 'AQ==', stringListValues: [], binaryListValues: [] },
      },
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:queue',
      awsRegion: 'us-east-1',
    });
  });
});

describe('queue URL variables', () => {
  it('names the variable a sending function reads after the queue', () => {
    expect(queueUrlVariable('otp')).toBe('OTP_QUEUE_URL');
    expect(queueUrlVariable('events')).toBe('EVENTS_QUEUE_URL');
    expect(queueUrlVariable('webhook-retries')).toBe('WEBHOOK_RETRIES_QUEUE_URL');
  });
});

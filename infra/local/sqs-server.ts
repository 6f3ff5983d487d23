/**
 * The SQS emulator: `local-aws-sqs`, an SQS-compatible server (JSON and Query protocols, DLQs,
 * message move tasks) running inside this Node process on a port the OS picks.
 *
 * It keeps queues and messages in memory only, so queues are created again at every start.
 *
 * One known deviation is worked around here: the library counts a `ChangeMessageVisibility` as a
 * receive (it bumps `ApproximateReceiveCount`), so a consumer that backs off by changing visibility
 * would reach its DLQ after half its attempts. The local stack therefore gives the server a redrive
 * threshold it never reaches (`SERVER_REDRIVE_CEILING`) and the queue poller, which performs every
 * receive, counts receives itself and moves a message to the DLQ after `maxReceiveCount`, through
 * `moveToDeadLetterQueue`, which files it exactly as the server's own redrive would (same message
 * id, `DeadLetterQueueSourceArn` set).
 */
import { createServer } from 'node:http';
import type { Message } from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';

/** The largest `maxReceiveCount` SQS accepts; see the module comment for why the server gets it. */
export const SERVER_REDRIVE_CEILING = 1000;

export interface SqsServer {
  endpoint: string;
  port: number;
  /** Files a received message in `dlqName` as SQS's redrive does; the caller deletes it from its queue. */
  moveToDeadLetterQueue(sourceQueueArn: string, dlqName: string, message: Message): void;
  /**
   * An outage, for fault-injection tests: the server stops accepting connections (and drops the
   * open ones) until `resume`, keeping its queues and messages, as SQS keeps them through one.
   */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSqsServer(region: string, accountId: string): Promise<SqsServer> {
  const { service, requestHandler } = createRequestHandler({ port: 0, hostname: '127.0.0.1', region, accountId });
  const server = createServer((req, res) => void requestHandler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  // The library builds queue URLs from this.
  service.PORT = port;

  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Long polls in flight would otherwise hold `close` open for their whole wait.
      server.closeAllConnections();
    });
  let stopping: Promise<void> | undefined;
  let paused: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    moveToDeadLetterQueue(sourceQueueArn, dlqName, message) {
      const dlq = service.Queues.find((queue) => queue.QueueName === dlqName);
      if (!dlq) throw new Error(`Dead-letter queue ${dlqName} does not exist`);
      dlq.setRecord(
        {
          MessageBody: message.Body ?? '',
          MessageAttributes: wireAttributes(message.MessageAttributes),
          MessageSystemAttributes: { DeadLetterQueueSourceArn: { DataType: 'String', StringValue: sourceQueueArn } },
          MessageGroupId: message.Attributes?.MessageGroupId,
          MessageDeduplicationId: message.Attributes?.MessageDeduplicationId,
        },
        message.MessageId,
      );
    },
    pause() {
      paused ??= close();
      return paused;
    },
    async resume() {
      if (!paused || stopping) return;
      await paused;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      paused = undefined;
    },
    stop() {
      stopping ??= (paused ?? close());
      return stopping;
    },
  };
}

/** Message attributes as the JSON protocol carries them (binary values base64), the way the library stores them. */
function wireAttributes(attributes: Message['MessageAttributes']): Record<string, unknown> | undefined {
  if (!attributes || Object.keys(attributes).length === 0) return undefined;
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attributes)) {
    result[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
    };
  }
  return result;
}

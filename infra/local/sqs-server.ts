/**
 * The SQS emulator: `local-aws-sqs`, an SQS-compatible server (JSON and Query protocols, redrive
 * to a DLQ after `maxReceiveCount`) running inside this Node process on a port the OS picks.
 *
 * It keeps queues and messages in memory only, so queues are created again at every start.
 */
import type { Server } from 'node:http';
import { createSqsServer } from 'local-aws-sqs';

export interface SqsServer {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export async function startSqsServer(region: string, accountId: string): Promise<SqsServer> {
  // Port 0: the library reads the bound port back into the queue URLs it hands out.
  const server: Server = await createSqsServer({ port: 0, hostname: '127.0.0.1', region, accountId });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('SQS server did not bind a port');
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Long polls in flight would otherwise hold `close` open for their whole wait.
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

/**
 * The HTTP floor of the authorization benchmark: the bare baseline's database work
 * (bench/bare-authorization.ts) behind a bare `node:http` server on the thread the API runs on,
 * with nothing else: no routing table, authorizer, middleware, validation or grant checks. It reads
 * the JSON body, does the approval's round trips and answers `201` with the transaction's view (the
 * JSON the API answers with).
 *
 * What it measures: the cost of being an HTTP service at all on this machine (the client's request
 * and the server's answer, each waking a thread that waited on the database), which no
 * implementation of the API can avoid. The API's distance to the floor is its own pipeline; the
 * floor's distance to the bare baseline is HTTP's.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { transactionView } from '../shared/domain/transactions.ts';
import { bareApproval } from './bare-authorization.ts';

export interface FloorRequest {
  card_id: string;
  amount: string;
  /** The network route's floor also claims the network's id, as its baseline does. */
  network_authorization_id?: string;
}

export interface HttpFloor {
  /** `http://127.0.0.1:<port>`: POST any path with a `FloorRequest`. */
  base: string;
  close(): Promise<void>;
}

/** Starts the floor server on an OS-chosen port; amounts are the bench's fixed one (`amountMinor` for `amount`). */
export async function startHttpFloor(timezone: string, amountMinor: bigint): Promise<HttpFloor> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = (status: number, body: string) => {
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      let request: FloorRequest;
      try {
        request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FloorRequest;
      } catch {
        answer(400, '{"error":"invalid_json"}');
        return;
      }
      bareApproval(request.card_id, amountMinor, request.amount, timezone, request.network_authorization_id).then(
        (transaction) => answer(201, JSON.stringify(transactionView(transaction))),
        (error: unknown) => answer(500, JSON.stringify({ error: error instanceof Error ? error.message : String(error) })),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The load generator of the authorization benchmark, in its own thread: it plays the partner (or
 * the card network) calling the API over HTTP, and, for the baseline, a program doing the same
 * database round trips directly, and, for the HTTP floor, a client of the bare server doing those
 * round trips (bench/http-floor.ts). Every workload runs on this thread, so they pay the same
 * load-generation costs; the API's own work (HTTP server, authorizer cache, handler, SDK calls)
 * and the floor's run on the main thread, as a separate server would.
 *
 * Protocol: the parent posts `{ id, command }`; the worker answers `{ id, result }` or `{ id, error }`.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { parentPort } from 'node:worker_threads';
import { closedLoop, type ClosedLoopOptions, type Segment } from './support/closed-loop.ts';
import { currentThreadId } from './support/cpu.ts';

export interface BenchCard {
  id: string;
  number: string;
}

export interface InitCommand {
  kind: 'init';
  apiBase: string;
  /** The HTTP floor's server (bench/http-floor.ts), for the sections that run it. */
  floorBase?: string;
  apiKey: string;
  networkKey: string;
  businessId: string;
  cards: BenchCard[];
  /** Decimal string in USD, and the same in cents. */
  amount: string;
  amountMinor: string;
  maxConcurrency: number;
}

export type Workload = 'api-simulate' | 'api-network' | 'bare' | 'bare-network' | 'floor' | 'floor-network';

export interface RunCommand extends ClosedLoopOptions {
  kind: 'run';
  workload: Workload;
  /** `all`: round-robin over every bench card; `hot`: every request on the first card. */
  cards: 'all' | 'hot';
}

export type Command = InitCommand | RunCommand | { kind: 'close' };

interface Setup {
  init: InitCommand;
  agent: Agent;
  timezone: string;
  bare: typeof import('./bare-authorization.ts');
}

let setup: Setup | undefined;

parentPort?.on('message', (message: { id: number; command: Command }) => {
  handle(message.command).then(
    (result) => {
      const transfer = result && 'latenciesMs' in result ? [result.latenciesMs.buffer as ArrayBuffer] : [];
      parentPort!.postMessage({ id: message.id, result }, transfer);
    },
    (error: unknown) => parentPort!.postMessage({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});

async function handle(command: Command): Promise<Segment | { threadId: number | undefined } | undefined> {
  switch (command.kind) {
    case 'init': {
      // The parent set this thread's environment (the stack's table and endpoints) before starting it.
      const bare = await import('./bare-authorization.ts');
      setup = {
        init: command,
        agent: new Agent({ keepAlive: true, maxSockets: command.maxConcurrency, keepAliveMsecs: 60_000 }),
        timezone: await bare.businessTimezone(command.businessId),
        bare,
      };
      return { threadId: currentThreadId() };
    }
    case 'run':
      return run(command);
    case 'close':
      setup?.agent.destroy();
      (await import('../shared/db/client.ts')).db().destroy();
      return undefined;
  }
}

function run(command: RunCommand): Promise<Segment> {
  if (!setup) throw new Error('worker not initialised');
  const { init, bare, timezone } = setup;
  const api = new URL(init.apiBase);
  const floor = init.floorBase === undefined ? undefined : new URL(init.floorBase);
  const cards = command.cards === 'hot' ? init.cards.slice(0, 1) : init.cards;
  const amountMinor = BigInt(init.amountMinor);
  const cardFor = (sequence: number) => cards[sequence % cards.length] as BenchCard;

  switch (command.workload) {
    case 'bare':
      return closedLoop(command, async (sequence) => {
        await bare.bareApproval(cardFor(sequence).id, amountMinor, init.amount, timezone);
        return true;
      });
    case 'bare-network':
      return closedLoop(command, async (sequence) => {
        await bare.bareApproval(cardFor(sequence).id, amountMinor, init.amount, timezone, `bench-${randomUUID()}`);
        return true;
      });
    case 'api-simulate': {
      const headers = { authorization: `Bearer ${init.apiKey}`, 'content-type': 'application/json' };
      return closedLoop(command, (sequence) =>
        authorized(post(api, '/v1/simulate/authorizations', headers, { card_id: cardFor(sequence).id, amount: init.amount, currency: 'USD', merchant_name: 'Bench' })),
      );
    }
    case 'api-network': {
      const headers = { authorization: `Bearer ${init.networkKey}`, 'content-type': 'application/json' };
      return closedLoop(command, (sequence) =>
        authorized(
          post(api, '/network/authorizations', headers, {
            card_number: cardFor(sequence).number,
            network_authorization_id: `bench-${randomUUID()}`,
            amount: init.amount,
            currency: 'USD',
            merchant_name: 'Bench',
          }),
        ),
      );
    }
    case 'floor':
    case 'floor-network': {
      // The same body fields the API reads; the floor is told the card's id (it has no number index).
      const headers = { 'content-type': 'application/json' };
      const network = command.workload === 'floor-network';
      if (!floor) throw new Error('the floor workload needs the floor server (init.floorBase)');
      return closedLoop(command, (sequence) =>
        authorized(
          post(floor, network ? '/network/authorizations' : '/v1/simulate/authorizations', headers, {
            card_id: cardFor(sequence).id,
            amount: init.amount,
            currency: 'USD',
            merchant_name: 'Bench',
            ...(network ? { network_authorization_id: `bench-${randomUUID()}` } : {}),
          }),
        ),
      );
    }
  }
}

/** True for `201 Authorized`; anything else throws with what came back (counted as a failure). */
async function authorized(response: Promise<{ status: number; body: string }>): Promise<boolean> {
  const { status, body } = await response;
  if (status === 201 && body.includes('"status":"Authorized"')) return true;
  throw new Error(`HTTP ${status}: ${body.slice(0, 200)}`);
}

function post(url: URL, path: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; body: string }> {
  const { agent } = setup!;
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { agent, host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname, port: url.port, path, method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

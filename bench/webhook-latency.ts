/**
 * Webhook latency on the local stack: from the moment the API's response reaches the client to the
 * moment the partner's receiver has the signed webhook. Target (issue 5): p50 under 1 s.
 *
 * The path measured is the whole outbox pipeline: the committed event on the table's stream, the
 * stream poller and dispatcher, the SQS server, the queue poller and delivery function (business
 * read, signing, the POST), as `npm start` runs it. The receiver is a plain HTTP server in this
 * process that verifies every signature with `standardwebhooks`, as a partner would.
 *
 * Scenarios:
 * - one at a time: each authorization waits for its webhook before the next (the pipeline's own
 *   latency, nothing queued);
 * - steady load: authorizations at a fixed rate for the run's duration, whatever the webhooks do;
 * - 3DS: one challenge at a time, to the OTP webhook (its own queue and delivery function).
 *
 * Sections before this one may leave a backlog of events (the authorization section pauses the
 * pollers); it is drained first, so it does not count here.
 */
import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import type { BenchContext, BenchSection } from './support/section.ts';
import { percentile } from './support/stats.ts';
import { fixed, formatTable } from './support/table.ts';

const TARGET_P50_MS = 1000;
const SEQUENTIAL_COUNT = 40;
const OTP_COUNT = 20;
const STEADY_RATE_PER_SECOND = 20;
/** How long a webhook may take before it counts as lost. */
const DELIVERY_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 15 * 60_000;

interface Arrival {
  atMs: number;
  signatureValid: boolean;
}

export interface LatencyResult {
  label: string;
  sent: number;
  delivered: number;
  lost: number;
  invalidSignatures: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  met: boolean;
}

const now = () => performance.timeOrigin + performance.now();

export const webhookLatencySection: BenchSection = {
  name: 'webhooks',
  title: 'Webhook latency: API response to the partner receiver',
  async run(context) {
    const { options, say } = context;
    const receiver = await Receiver.start();
    try {
      const partner = await createPartner(context, receiver.url);
      receiver.secret = partner.secret;

      say('draining events left by earlier sections (the pipeline delivers in commit order)');
      const drainStarted = now();
      const marker = await partner.authorize();
      await receiver.arrival(`txn:${marker}`, DRAIN_TIMEOUT_MS);
      say(`  drained in ${fixed((now() - drainStarted) / 1000)} s`);

      say('warming up');
      for (let i = 0; i < 5; i++) await measureOne(receiver, () => partner.authorize(), (id) => `txn:${id}`);
      await measureOne(receiver, () => partner.challenge(), (id) => `otp:${id}`);

      say(`one at a time: ${SEQUENTIAL_COUNT} authorizations, each waiting for its webhook`);
      const sequential: (number | undefined)[] = [];
      for (let i = 0; i < SEQUENTIAL_COUNT; i++) sequential.push(await measureOne(receiver, () => partner.authorize(), (id) => `txn:${id}`));

      const steadyCount = Math.max(1, Math.round(options.seconds * STEADY_RATE_PER_SECOND));
      say(`steady load: ${steadyCount} authorizations at ${STEADY_RATE_PER_SECOND}/s`);
      const steady = await measureSteady(partner, receiver, steadyCount);

      say(`3DS: ${OTP_COUNT} challenges, each waiting for its OTP webhook`);
      const otp: (number | undefined)[] = [];
      for (let i = 0; i < OTP_COUNT; i++) otp.push(await measureOne(receiver, () => partner.challenge(), (id) => `otp:${id}`));

      const results = [
        summarizeLatency('authorization, one at a time', sequential, receiver),
        summarizeLatency(`authorization, ${STEADY_RATE_PER_SECOND}/s`, steady, receiver),
        summarizeLatency('3DS OTP, one at a time', otp, receiver),
      ];
      say('');
      say(report(results));
      return {
        target: { p50Ms: TARGET_P50_MS },
        method: {
          measured: 'API response received by the client -> webhook request body received by the partner receiver (same process)',
          pollers: 'running (stream poller idles 250 ms between empty reads, queue pollers 100 ms)',
          logLevel: process.env.POWERTOOLS_LOG_LEVEL ?? 'default',
          deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
        },
        scenarios: results,
      };
    } finally {
      await receiver.stop();
    }
  },
};

interface Partner {
  secret: string;
  /** Returns the transaction id once the API answered. */
  authorize(): Promise<string>;
  /** Returns the verification id once the API answered. */
  challenge(): Promise<string>;
}

async function createPartner({ stack }: BenchContext, webhookUrl: string): Promise<Partner> {
  // As the operator creates one (`npm run admin -- create-business --webhook-url ...`).
  const { createBusiness } = await import('../shared/services/businesses.ts');
  const business = await createBusiness({ name: 'Webhook bench business', webhookUrl });
  const call = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${stack.apiBase}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${business.api_key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (response.status !== 201) throw new Error(`${path} answered ${response.status}: ${JSON.stringify(json)}`);
    return json;
  };
  await call('/v1/simulate/topups', { currency: 'USD', amount: '1000000' });
  const card = await call('/v1/cards', { mode: 'B2B', currency: 'USD' });
  return {
    secret: business.webhook_secret,
    authorize: async () => String((await call('/v1/simulate/authorizations', { card_id: card.id, amount: '1.00', currency: 'USD', merchant_name: 'Bench' })).id),
    challenge: async () => String((await call('/v1/simulate/3ds', { card_id: card.id, amount: '1.00', currency: 'USD', merchant_name: 'Bench' })).verification_id),
  };
}

/** One request, then its webhook: the latency, or undefined if it never came. */
async function measureOne(receiver: Receiver, send: () => Promise<string>, keyOf: (id: string) => string): Promise<number | undefined> {
  const id = await send();
  const answeredAt = now();
  const arrival = await receiver.arrival(keyOf(id), DELIVERY_TIMEOUT_MS).catch(() => undefined);
  return arrival === undefined ? undefined : arrival.atMs - answeredAt;
}

async function measureSteady(partner: Partner, receiver: Receiver, count: number): Promise<(number | undefined)[]> {
  const intervalMs = 1000 / STEADY_RATE_PER_SECOND;
  const started = now();
  const pending: Promise<number | undefined>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + i * intervalMs;
    const wait = due - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(measureOne(receiver, () => partner.authorize(), (id) => `txn:${id}`));
  }
  return Promise.all(pending);
}

function summarizeLatency(label: string, samples: (number | undefined)[], receiver: Receiver): LatencyResult {
  const delivered = samples.filter((sample): sample is number => sample !== undefined).sort((a, b) => a - b);
  const p50 = percentile(delivered, 50);
  return {
    label,
    sent: samples.length,
    delivered: delivered.length,
    lost: samples.length - delivered.length,
    invalidSignatures: receiver.invalidSignatures,
    latencyMs: { p50, p90: percentile(delivered, 90), p99: percentile(delivered, 99), max: delivered.at(-1) ?? Number.NaN },
    met: delivered.length === samples.length && p50 < TARGET_P50_MS,
  };
}

function report(results: LatencyResult[]): string {
  const table = formatTable(
    ['scenario', 'sent', 'delivered', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', `p50 < ${TARGET_P50_MS} ms`],
    results.map((r) => [r.label, String(r.sent), String(r.delivered), fixed(r.latencyMs.p50, 0), fixed(r.latencyMs.p90, 0), fixed(r.latencyMs.p99, 0), fixed(r.latencyMs.max, 0), r.met ? 'yes' : 'MISSED']),
  );
  const invalid = results[0]?.invalidSignatures ?? 0;
  return `${table}\n${invalid === 0 ? 'every delivery verified with standardwebhooks' : `${invalid} deliveries failed signature verification`}`;
}

/** The partner's receiver: records when each transaction's or verification's webhook arrived. */
class Receiver {
  secret = '';
  invalidSignatures = 0;
  private readonly arrivals = new Map<string, Arrival>();
  private readonly waiters = new Map<string, (arrival: Arrival) => void>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<Receiver> {
    let receiver: Receiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        res.writeHead(204).end();
        receiver?.record(req.headers as Record<string, string>, Buffer.concat(chunks).toString('utf8'), now());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    receiver = new Receiver(server, `http://127.0.0.1:${(server.address() as { port: number }).port}/webhooks`);
    return receiver;
  }

  private record(headers: Record<string, string>, body: string, atMs: number): void {
    let signatureValid = true;
    try {
      new Webhook(this.secret).verify(body, headers);
    } catch {
      signatureValid = false;
      this.invalidSignatures++;
    }
    const parsed = JSON.parse(body) as { card_transaction?: { id: string }; verification_id?: string };
    const key = parsed.verification_id ? `otp:${parsed.verification_id}` : `txn:${parsed.card_transaction?.id}`;
    if (this.arrivals.has(key)) return; // a redelivery: the first arrival is the latency
    const arrival = { atMs, signatureValid };
    this.arrivals.set(key, arrival);
    this.waiters.get(key)?.(arrival);
  }

  arrival(key: string, timeoutMs: number): Promise<Arrival> {
    const known = this.arrivals.get(key);
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`no webhook for ${key} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(key, (arrival) => {
        clearTimeout(timer);
        this.waiters.delete(key);
        resolve(arrival);
      });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

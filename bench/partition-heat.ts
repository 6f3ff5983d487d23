/**
 * `npm run bench -- --only partition-heat`: how many write units each partition key (of the table
 * and of each index) receives per second when one business approves 5,000 authorizations a second.
 * DynamoDB serves at most 1,000 WCU a second per partition key; DynamoDB Local has no such limit,
 * so this is a model, not a measurement of DynamoDB.
 *
 * How it works (what is real and what is not):
 * - Templates are REAL: one business (funded by a top-up), one user (with a credited balance), one
 *   B2B card and one B2C card are created through the real services against the local stack's
 *   DynamoDB Local, and their items are read back from it.
 * - The workload is the REAL services as the card network calls them: `networkAuthorization`
 *   (by card number, claiming a fresh network authorization id) for each approval, then
 *   `settleAuthorization` or `reverseAuthorization`. Their document client is routed to an in-memory table
 *   (bench/support/memory-table.ts) that serves their reads and applies and records every write
 *   they send; nothing about the writes is made up here.
 * - Scale: each authorization draws one of 100,000 card slots (seeded, so runs repeat); a slot's
 *   card is a copy of the template card's items under a fresh id (and its card-number index item,
 *   under the keyed hash of a made-up number of its own), made when the services first touch its
 *   partition. A B2C card belongs to a user of its own (a copy of the template user:
 *   100,000 of the 1,000,000 users hold the cards). Condition expressions are not evaluated
 *   (every approval passes its conditions; the workload is funded and has no limits).
 * - The local stack's handlers run in this process, so while the section runs, anything they do
 *   on a timer (the sweepers' index queries) reaches the in-memory table too; the report lists what
 *   the table did not serve. Run the section alone (`--only`) for numbers of this workload only.
 * - Time is simulated: authorization i happens in second floor(i / 5,000); it is captured (95%) or
 *   reversed (5%) `ADJUST_AFTER_SECONDS` later, so from that second on each second carries 5,000
 *   approvals and 5,000 captures or reversals. The report reads the LAST simulated second: the
 *   steady state, once the escrow shard count has grown.
 * - Escrow growth (B2B): conditions are not evaluated, so no write is ever throttled here; instead,
 *   every tenth of a simulated second, an escrow shard that received more than a tenth of 1,000
 *   WCU is a shard DynamoDB would have throttled, and the model calls the escrow service's own
 *   growth (`escrowContended`), as the service does when a transaction reports throttling. The
 *   shard count the workload ends with is in the report.
 * - Each recorded write is costed by bench/support/partition-heat.ts (item size, 1 WCU per KB,
 *   doubled in a transaction, index writes by the index keys the item carries before and after).
 *   Index keys are read from the items by `TABLE_SCHEMA`'s attribute names, never assumed, so a
 *   change of keys (write shards) shows in the numbers by itself.
 * - Webhooks are delivered too, in the same simulated second: every inserted item that the outbox
 *   dispatcher would queue (`queuedEventOf`, as `dispatchOutboxRecords` decides) is handed, ten
 *   to a batch as SQS would, to the real `deliverQueuedEvents`, which claims the event, POSTs it
 *   to a receiver in this process (answering 204) and records the attempt: two more writes of the
 *   event's delivery record (and of its undelivered-index entry), none of the event item.
 *
 * Not modelled: failed deliveries and their retries, the hold-expiry and undelivered-event
 * sweepers, reads (RCU), and DynamoDB's adaptive capacity (which cannot raise one partition key
 * past 1,000 WCU/s anyway).
 */
import { createServer, type Server } from 'node:http';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { newId } from '../shared/domain/ids.ts';
import { TABLE_SCHEMA } from '../shared/db/table-schema.ts';
import { MemoryTable } from './support/memory-table.ts';
import { costsOf, HeatRecorder, TABLE, TRANSACTION_DOUBLES_INDEX_WRITES, type KeyHeat, type StoredItem } from './support/partition-heat.ts';
import type { BenchContext, BenchSection } from './support/section.ts';
import { formatTable } from './support/table.ts';
import { partnerCall } from './support/partner-call.ts';
import { seededRandom } from '../test/support/seeded-random.ts';

const AUTHORIZATIONS_PER_SECOND = 5_000;
const CARDS = 100_000;
const USERS = 1_000_000;
const SIMULATED_SECONDS = 3;
const ADJUST_AFTER_SECONDS = 1;
const REVERSED_SHARE = 0.05;
const TARGET_WCU_PER_SECOND = 800;
const PARTITION_LIMIT_WCU = 1_000;
const TOP = 10;
/**
 * DynamoDB throttles a partition key past 1,000 WCU/s; the escrow service answers throttling on a
 * shard by doubling the shard count (shared/services/escrow.ts). The model checks every tenth of a
 * simulated second and calls the service's own growth where DynamoDB would have throttled.
 */
const TICKS_PER_SECOND = 10;
/** SQS hands the delivery function up to ten messages at once. */
const DELIVERY_BATCH = 10;

type Mode = 'B2B' | 'B2C';

interface Templates {
  businessId: string;
  userId: string;
  cards: Record<Mode, string>;
  /** The keyed hash of each template card's number (its `PAN#` index item's key); never the number. */
  numberHashes: Record<Mode, string>;
  /** Items of the template partitions, marshalled, by partition key. */
  partitions: Map<string, StoredItem[]>;
}

interface WorkloadResult {
  mode: Mode;
  approvals: number;
  captures: number;
  reversals: number;
  notApproved: number;
  webhooks: number;
  /** Deliveries the receiver did not take (none expected): their retries are not modelled. */
  webhookRetries: number;
  /** The business balance's escrow shards at the end (grown where DynamoDB would have throttled). */
  escrowShards: number;
  tableWrites: number;
  steadySeconds: number[];
  wallSeconds: number;
  hottest: (KeyHeat & { pattern: string; met: boolean })[];
  /** Every family of keys written (ids as `<id>`): how many keys, and the hottest one's WCU/s. */
  families: { index: string; family: string; keys: number; maxWcuPerSecond: number }[];
  unserved: Record<string, number>;
}

export const partitionHeatSection: BenchSection = {
  name: 'partition-heat',
  title: `partition heat: write units per partition key at ${AUTHORIZATIONS_PER_SECOND.toLocaleString('en-US')} authorizations/s of one business (model)`,
  async run(context: BenchContext) {
    const { say } = context;
    say(`setting up templates (real services against DynamoDB Local): a business, a user, a B2B and a B2C card`);
    const receiver = await startReceiver();
    try {
      return await measure(context, await createTemplates(context, receiver.url));
    } finally {
      await new Promise((resolve) => receiver.server.close(resolve));
    }
  },
};

async function measure({ say }: BenchContext, templates: Templates) {
  say(
    `simulating ${SIMULATED_SECONDS} s at ${AUTHORIZATIONS_PER_SECOND} authorizations/s over ${CARDS.toLocaleString('en-US')} cards` +
      ` (B2C: ${USERS.toLocaleString('en-US')} users); each captured after ${ADJUST_AFTER_SECONDS} s, ${REVERSED_SHARE * 100}% reversed instead;` +
      ` every event's webhook delivered`,
  );
  const creation = creationCosts(templates);
  say('creating one record: the index keys it writes that are shared by the whole business (from the template items)');
  say(
    formatTable(
      ['item', 'index', 'key', 'WCU', `creations/s at ${PARTITION_LIMIT_WCU} WCU/s`],
      creation.map((row) => [row.item, row.index, row.key, String(row.wcu), String(row.creationsPerSecond)]),
    ),
  );
  const results: WorkloadResult[] = [];
  for (const mode of ['B2B', 'B2C'] as const) {
    const result = await runWorkload(mode, templates, say);
    results.push(result);
    say('');
    say(
      `${mode}: ${result.approvals} approvals, ${result.captures} captures, ${result.reversals} reversals` +
        ` (${result.notApproved} not approved), ${result.webhooks} webhooks (${result.webhookRetries} not delivered), ${result.tableWrites} table writes,` +
        ` ${result.escrowShards} escrow shards at the end, ${result.wallSeconds.toFixed(1)} s wall;` +
        ` the ten hottest partition keys in simulated seconds ${result.steadySeconds.join(', ')} (steady state):`,
    );
    say(
      formatTable(
        ['key', 'index', 'WCU/s', 'writes/s', `<= ${TARGET_WCU_PER_SECOND}`],
        result.hottest.map((heat) => [heat.pattern, heat.index, String(heat.wcuPerSecond), String(heat.writes), heat.met ? 'met' : 'MISSED']),
      ),
    );
    say(`  every family of keys written (ids as <id>): keys, hottest WCU/s`);
    say(
      result.families
        .map((family) => `    ${family.family} (${family.index}): ${family.keys} keys, ${family.maxWcuPerSecond} WCU/s`)
        .join('\n'),
    );
    // The local stack's sweepers run on timers in this process, so their index queries reach the table too (and find nothing).
    if (Object.keys(result.unserved).length) say(`  (the in-memory table did not serve: ${JSON.stringify(result.unserved)}; index queries are the local stack's sweepers)`);
  }
  const hottest = results.flatMap((result) => result.hottest.slice(0, 1).map((heat) => ({ ...heat, workload: result.mode }))).sort((a, b) => b.wcuPerSecond - a.wcuPerSecond)[0];
  const met = hottest !== undefined && hottest.wcuPerSecond <= TARGET_WCU_PER_SECOND;
  say('');
  if (hottest) {
    say(
      `hottest key: ${hottest.pattern} (${hottest.index}, ${hottest.workload}) at ${hottest.wcuPerSecond} WCU/s (target <= ${TARGET_WCU_PER_SECOND})${met ? '  met' : '  MISSED'}` +
        `; a partition key serves ${PARTITION_LIMIT_WCU}, so this workload stops near` +
        ` ${Math.floor((AUTHORIZATIONS_PER_SECOND * PARTITION_LIMIT_WCU) / hottest.wcuPerSecond)} authorizations/s (each with its capture or reversal and webhooks)`,
    );
  }
  return {
    target: { hottestWcuPerSecond: TARGET_WCU_PER_SECOND, partitionLimitWcuPerSecond: PARTITION_LIMIT_WCU },
    workload: {
      authorizationsPerSecond: AUTHORIZATIONS_PER_SECOND,
      cards: CARDS,
      users: USERS,
      simulatedSeconds: SIMULATED_SECONDS,
      adjustAfterSeconds: ADJUST_AFTER_SECONDS,
      reversedShare: REVERSED_SHARE,
      indexes: TABLE_SCHEMA.globalIndexes.map((index) => index.indexName),
      transactionDoublesIndexWrites: TRANSACTION_DOUBLES_INDEX_WRITES,
    },
    hottest: hottest ? { key: hottest.key, pattern: hottest.pattern, index: hottest.index, wcuPerSecond: hottest.wcuPerSecond, workload: hottest.workload } : null,
    met,
    /** At 1,000 WCU/s on the hottest key, the authorizations a second this business could sustain. */
    sustainableAuthorizationsPerSecond: hottest ? Math.floor((AUTHORIZATIONS_PER_SECOND * PARTITION_LIMIT_WCU) / hottest.wcuPerSecond) : null,
    workloads: Object.fromEntries(results.map((result) => [result.mode, result])),
    creation,
  };
}

/**
 * What creating a user or a card costs on the index keys its item carries that are shared by its
 * whole business (those naming the business id): the ceiling on how fast one business can create
 * them. Read from the real template items, so a sharded list key shows up as it is.
 */
function creationCosts(templates: Templates) {
  const names = new Map([[templates.businessId, '<business>']]);
  const rows: { item: string; index: string; key: string; wcu: number; creationsPerSecond: number }[] = [];
  for (const items of templates.partitions.values()) {
    for (const item of items) {
      for (const cost of costsOf({ kind: 'put', after: item, transactional: false })) {
        if (cost.index === TABLE || !cost.key.includes(templates.businessId)) continue;
        const entity = `${pattern(item.PK?.S ?? '', names)} ${item.SK?.S ?? ''}`;
        rows.push({ item: entity, index: cost.index, key: pattern(cost.key, names), wcu: cost.units, creationsPerSecond: Math.floor(PARTITION_LIMIT_WCU / cost.units) });
      }
    }
  }
  return rows;
}

/** The partner's webhook receiver: accepts everything at once. */
async function startReceiver(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/webhooks` };
}

async function createTemplates({ stack }: BenchContext, webhookUrl: string): Promise<Templates> {
  const { createBusiness } = await import('../shared/services/businesses.ts');
  const { db, tableName } = await import('../shared/db/client.ts');
  const { QueryCommand } = await import('@aws-sdk/lib-dynamodb');
  const { marshall } = await import('@aws-sdk/util-dynamodb');
  const { creditItem } = await import('../shared/db/ledger-items.ts');
  const { transactWrite } = await import('../shared/db/transact.ts');
  const business = await createBusiness({ name: 'Partition heat', webhookUrl });
  const call = partnerCall(stack.apiBase, business.api_key);
  await call('POST', '/v1/simulate/topups', { currency: 'USD', amount: '1000000000' });
  const user = await call('POST', '/v1/users', {
    ekyc: {
      first_name: 'Heat',
      last_name: 'Model',
      date_of_birth: '1990-01-01',
      nationality: 'HK',
      id_type: 'passport',
      id_number: 'M12345678',
      email: 'heat-model@example.com',
      phone: '+85290000000',
      address: { line1: '1 Model Road', city: 'Hong Kong', country: 'HK' },
    },
  });
  const userId = String(user.p_user_id);
  // A B2C user's funds arrive by deposit or transfer; the model only needs a balance item of the real shape.
  const credited = await transactWrite([{ item: creditItem({ kind: 'user', id: userId }, 'USD', 1_000_000_000_00n) }]);
  if (!credited.committed) throw new Error('crediting the template user failed');
  const b2b = await call('POST', '/v1/cards', { mode: 'B2B', currency: 'USD', nickname: 'heat' });
  const b2c = await call('POST', '/v1/cards', { mode: 'B2C', currency: 'USD', p_user_id: userId, nickname: 'heat' });
  const cards = { B2B: String(b2b.id), B2C: String(b2c.id) };
  const { cardNumberHash } = await import('../shared/db/cards-repository.ts');
  const numberHash = async (cardId: string) => cardNumberHash(String((await call('GET', `/v1/cards/${cardId}/full`)).card_number));
  const numberHashes = { B2B: await numberHash(cards.B2B), B2C: await numberHash(cards.B2C) };
  const partitions = new Map<string, StoredItem[]>();
  const templatePartitions = [`BUSINESS#${business.business_id}`, `USER#${userId}`, `CARD#${cards.B2B}`, `CARD#${cards.B2C}`, `PAN#${numberHashes.B2B}`, `PAN#${numberHashes.B2C}`];
  for (const pk of templatePartitions) {
    const page = await db().send(new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true }));
    partitions.set(pk, (page.Items ?? []).map((item) => marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false }) as StoredItem));
  }
  if (!partitions.get(`PAN#${numberHashes.B2B}`)?.length) throw new Error('the template card-number index item was not found');
  return { businessId: business.business_id, userId, cards, numberHashes, partitions };
}

async function runWorkload(mode: Mode, templates: Templates, say: (line: string) => void): Promise<WorkloadResult> {
  const { networkAuthorization } = await import('../shared/services/authorizations.ts');
  const { settleAuthorization, reverseAuthorization } = await import('../shared/services/authorization-adjustments.ts');
  const { NetworkAuthorizationBody } = await import('../shared/domain/transactions.ts');
  const { cardNumberHash } = await import('../shared/db/cards-repository.ts');
  const { queuedEventOf } = await import('../shared/db/outbox.ts');
  const { deliverQueuedEvents } = await import('../shared/services/webhook-delivery.ts');
  const { escrowContended } = await import('../shared/services/escrow.ts');
  const { readShardCount } = await import('../shared/db/escrow-repository.ts');
  const random = seededRandom(mode === 'B2B' ? 17 : 71);
  const recorder = new HeatRecorder();
  let second = 0;
  // What the outbox dispatcher would queue: each inserted item that is an event (its own test).
  const outbox: ReturnType<typeof queuedEventOf>[] = [];
  // Virtual id -> the template id it copies, and the replacements that make the copy its own.
  const copies = new Map<string, { template: string; replace: [string, string][] }>();
  // Write units each escrow shard received in the current tenth of a simulated second.
  const escrowTick = new Map<string, number>();
  const table = new MemoryTable(
    (write) => {
      recorder.record(second, write);
      for (const cost of costsOf(write)) {
        if (cost.index === TABLE && cost.key.startsWith('ESCROW#')) escrowTick.set(cost.key, (escrowTick.get(cost.key) ?? 0) + cost.units);
      }
      if (write.kind === 'put' && !write.before && write.after) {
        const event = queuedEventOf(unmarshall(write.after, { wrapNumbers: true }));
        if (event) outbox.push(event);
      }
    },
    (pk) => {
      const at = pk.indexOf('#');
      const copy = copies.get(pk.slice(at + 1));
      if (!copy) return [];
      const items = templates.partitions.get(pk.slice(0, at + 1) + copy.template) ?? [];
      return items.map((item) => replaceStrings(item, copy.replace));
    },
  );
  for (const items of templates.partitions.values()) table.seed(items);
  const cardNumbers = new Map<number, string>();
  const numberOf = async (slot: number): Promise<string> => {
    let number = cardNumbers.get(slot);
    if (number) return number;
    // A made-up 16-digit number per slot (never a real card's), indexed like a real one.
    number = `9${mode === 'B2B' ? 1 : 2}${String(slot).padStart(14, '0')}`;
    cardNumbers.set(slot, number);
    const id = newId();
    const hash = await cardNumberHash(number);
    const template = templates.cards[mode];
    copies.set(hash, { template: templates.numberHashes[mode], replace: [[templates.numberHashes[mode], hash], [template, id]] });
    if (mode === 'B2B') {
      copies.set(id, { template: templates.cards.B2B, replace: [[templates.cards.B2B, id]] });
    } else {
      // Each card its own user's (100,000 of the 1,000,000 users hold the cards in play).
      const userId = newId();
      copies.set(id, { template: templates.cards.B2C, replace: [[templates.cards.B2C, id], [templates.userId, userId]] });
      copies.set(userId, { template: templates.userId, replace: [[templates.userId, userId]] });
    }
    return number;
  };

  const uninstall = table.install();
  const started = performance.now();
  let escrowShards = 0;
  const pending = new Map<number, { transactionId: string; reverse: boolean }[]>();
  let approvals = 0;
  let captures = 0;
  let reversals = 0;
  let notApproved = 0;
  let webhooks = 0;
  let webhookRetries = 0;
  const deliver = async (all: boolean) => {
    while (outbox.length >= (all ? 1 : DELIVERY_BATCH)) {
      const batch = outbox.splice(0, DELIVERY_BATCH);
      for (const queue of ['events', 'otp'] as const) {
        const records = batch.filter((event) => event?.queue === queue).map((event, i) => sqsRecord(queue, JSON.stringify(event), `${second}-${webhooks + i}`));
        if (!records.length) continue;
        const response = await deliverQueuedEvents(queue, records);
        webhooks += records.length;
        webhookRetries += response.batchItemFailures.length;
      }
    }
  };
  try {
    for (second = 0; second < SIMULATED_SECONDS; second++) {
      const due = pending.get(second) ?? [];
      pending.delete(second);
      // Interleaved as they would arrive: an adjustment between approvals.
      const perAdjustment = due.length ? AUTHORIZATIONS_PER_SECOND / due.length : Infinity;
      let next = 0;
      for (let i = 0; i < AUTHORIZATIONS_PER_SECOND; i++) {
        while (next < due.length && next * perAdjustment <= i) {
          const { transactionId, reverse } = due[next++]!;
          if (reverse) {
            await reverseAuthorization({ network: true }, transactionId, {});
            reversals++;
          } else {
            await settleAuthorization({ network: true }, transactionId, {});
            captures++;
          }
          await deliver(false);
        }
        const body = NetworkAuthorizationBody.parse({
          card_number: await numberOf(Math.floor(random() * CARDS)),
          network_authorization_id: newId(),
          amount: '12.34',
          currency: 'USD',
          merchant_name: 'Heat model',
        });
        if ((i + 1) % (AUTHORIZATIONS_PER_SECOND / TICKS_PER_SECOND) === 0) {
          const throttled = [...escrowTick.values()].some((units) => units > PARTITION_LIMIT_WCU / TICKS_PER_SECOND);
          escrowTick.clear();
          if (throttled) await escrowContended(templates.businessId, 'USD');
        }
        const result = await networkAuthorization(body);
        const view = result.body as { id: string; status: string };
        await deliver(false);
        if (view.status !== 'Authorized') {
          notApproved++;
          continue;
        }
        approvals++;
        const at = second + ADJUST_AFTER_SECONDS;
        if (at < SIMULATED_SECONDS) {
          const list = pending.get(at) ?? [];
          list.push({ transactionId: view.id, reverse: random() < REVERSED_SHARE });
          pending.set(at, list);
        }
      }
      await deliver(true);
      say(`  ${mode} simulated second ${second} done (${((performance.now() - started) / 1000).toFixed(1)} s wall)`);
    }
    // The business balance's escrow shard count the workload ended with (B2B spends it; B2C never grows it).
    escrowShards = await readShardCount(templates.businessId, 'USD');
  } finally {
    uninstall();
  }
  const steady = [SIMULATED_SECONDS - 1];
  const patterns = new Map<string, string>([
    [templates.businessId, '<business>'],
    [templates.userId, '<user>'],
  ]);
  return {
    mode,
    approvals,
    captures,
    reversals,
    notApproved,
    webhooks,
    webhookRetries,
    escrowShards,
    tableWrites: recorder.writes,
    steadySeconds: steady,
    wallSeconds: (performance.now() - started) / 1000,
    hottest: recorder.hottest(TOP, new Set(steady)).map((heat) => ({ ...heat, pattern: pattern(heat.key, patterns), met: heat.wcuPerSecond <= TARGET_WCU_PER_SECOND })),
    families: recorder.families((key) => pattern(key, patterns), new Set(steady)),
    unserved: Object.fromEntries(table.unserved),
  };
}

/** An SQS message as the delivery function receives it from the queue, first receive. */
function sqsRecord(queue: string, body: string, messageId: string): SQSRecord {
  return {
    messageId,
    receiptHandle: messageId,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'model', ApproximateFirstReceiveTimestamp: String(Date.now()) },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:local:000000000000:${queue}`,
    awsRegion: 'local',
  };
}

/** A key with its ids named: the business's as `<business>`, any other UUID as `<id>`. */
function pattern(key: string, known: Map<string, string>): string {
  let text = key;
  for (const [id, name] of known) text = text.replaceAll(id, name);
  return text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>');
}

/** `item` with every string (keys, attribute values, nested) rewritten by `replace`; binaries kept. */
function replaceStrings<T>(value: T, replace: [string, string][]): T {
  if (typeof value === 'string') {
    let text: string = value;
    for (const [from, to] of replace) text = text.replaceAll(from, to);
    return text as T;
  }
  if (value instanceof Uint8Array || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((entry) => replaceStrings(entry, replace)) as T;
  return Object.fromEntries(Object.entries(value).map(([name, entry]) => [name, replaceStrings(entry, replace)])) as T;
}


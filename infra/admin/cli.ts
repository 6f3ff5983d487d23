/**
 * Operator CLI: `npm run admin -- <command> [options]`. Each command prints one JSON object (the
 * usage text below lists them).
 *
 * Without `--stage` it works on the running local stack; `--stage sandbox|production` targets a
 * deployed stage with the caller's AWS credentials. On the local stack, rotating the sandbox
 * business's key or webhook secret also updates `.local/credentials.json`, so the file always
 * holds values that work.
 */
// Creating a business seals its webhook secret: the envelope encryption engine (shared/crypto/envelope.ts).
import '../../shared/crypto/envelope-engine.ts';
// Operators hash credentials with the stage's KMS HMAC keys: keyed hashes with KMS (shared/crypto/keyed-hash.ts).
import '../../shared/crypto/keyed-hash-kms.ts';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiError, ValidationError } from '../../shared/errors.ts';
import { createBusiness, rotateApiKey, rotateWebhookSecret, setWebhookUrl } from '../../shared/services/businesses.ts';
import { issueCredential, listCredentials, revokeCredential } from '../../shared/services/credentials.ts';
import { DEAD_LETTER_SOURCES, listDeadLetters, redriveDeadLetters, type DeadLetterSource } from '../../shared/services/dead-letters.ts';
import { runLedgerAudit } from '../../shared/services/ledger-audit.ts';
import { indexOlderTransactions } from '../../shared/services/transactions.ts';
import { TopupBody } from '../../shared/domain/transactions.ts';
import { topUpBusiness } from '../../shared/services/topups.ts';
import { updateSandboxCredentials } from '../local/sandbox-credentials.ts';
import { LOCAL_STACK_FILE, useTarget } from './target.ts';
import { enrollBusiness, setRateLimit, usagePlanTarget, type UsagePlanTarget } from './usage-plans.ts';

/** Each command's synopsis and what it does; `--help` prints them, `<command> --help` its own. */
const COMMAND_USAGE: Record<string, { synopsis: string; summary?: string }> = {
  'create-business': { synopsis: 'create-business --name N [--webhook-url U] [--timezone IANA]' },
  'rotate-key': { synopsis: 'rotate-key --business-id ID', summary: 'new API key; the old one is revoked at once' },
  'set-webhook': { synopsis: 'set-webhook --business-id ID (--url U | --clear)' },
  'rotate-webhook-secret': { synopsis: 'rotate-webhook-secret --business-id ID', summary: 'the old secret keeps signing for 24 h' },
  'dead-letters': { synopsis: 'dead-letters [--queue otp|events|stream]', summary: 'what each DLQ holds: ids and counts; default all' },
  redrive: { synopsis: 'redrive [--queue otp|events|stream]', summary: "dead letters' events back to their queue; default all" },
  'create-network-key': { synopsis: 'create-network-key', summary: "the card network's key for /network/authorizations and /network/3ds; shown once" },
  'create-chain-key': { synopsis: 'create-chain-key', summary: "the chain watcher's key for /network/deposits; shown once" },
  'list-credentials': { synopsis: 'list-credentials', summary: "every key's id, kind, business, creation and revocation; never a key" },
  'revoke-credential': { synopsis: 'revoke-credential --id ID', summary: 'any kind, business API keys too; revoking twice is an error' },
  'fund-business': { synopsis: 'fund-business --business-id ID --currency C --amount A' },
  'set-rate-limit': { synopsis: 'set-rate-limit --business-id ID --rate R --burst B', summary: "a deployed stage: the business's own API throttle (its tier plan)" },
  'enroll-usage-keys': { synopsis: 'enroll-usage-keys [--business-id ID]', summary: 'a deployed stage: give businesses their usage-plan key; default all' },
  audit: { synopsis: 'audit', summary: 'exit code 1 if any balance disagrees with its ledger' },
  'index-transactions': { synopsis: 'index-transactions', summary: 'once after upgrading: list older transactions in GET /v1/transactions and give older holds their expiry' },
};

function usageLine(command: string): string {
  const { synopsis, summary } = COMMAND_USAGE[command] as { synopsis: string; summary?: string };
  return summary ? `  ${synopsis.padEnd(40)} (${summary})` : `  ${synopsis}`;
}

const USAGE = `usage: npm run admin -- <command> [--stage sandbox|production] [options]
       npm run admin -- [<command>] --help
${Object.keys(COMMAND_USAGE).map(usageLine).join('\n')}

Each command prints one JSON object on stdout; errors go to stderr (exit 1; 2 for a usage error).
A revoked or rotated-out key keeps working until the authorizer's cached verdict expires: up to
5 minutes in AWS, 60 seconds on the local stack.`;

type Options = Record<string, string | boolean | undefined>;

/** Set when the CLI acts on the local stack: where its sandbox credentials file is. */
let localCredentialsFile: string | undefined;

const commands: Record<string, (options: Options) => Promise<unknown>> = {
  'create-business': async (o) => {
    const created = await createBusiness({ name: required(o, 'name'), webhookUrl: optional(o, 'webhook-url'), timezone: optional(o, 'timezone') });
    // On a deployed stage the business's calls are throttled by its usage plan; it needs its key there.
    const target = usagePlanTarget();
    return target ? { ...created, usage_plan_id: (await enrollBusiness(target, created.business_id)).usage_plan_id } : created;
  },
  'set-rate-limit': (o) => {
    const rate = Number(required(o, 'rate'));
    const burst = Number(required(o, 'burst'));
    if (!(rate > 0) || !Number.isInteger(burst) || burst < 1) throw new UsageError('--rate must be a number above 0 and --burst a whole number from 1');
    return setRateLimit(deployedUsagePlans(), required(o, 'business-id'), rate, burst);
  },
  'enroll-usage-keys': async (o) => {
    const target = deployedUsagePlans();
    const one = optional(o, 'business-id');
    const businessIds = one ? [one] : [...new Set((await listCredentials()).data.flatMap((c) => (c.kind === 'business' && c.business_id ? [c.business_id] : [])))];
    const enrolled = [];
    for (const businessId of businessIds) enrolled.push(await enrollBusiness(target, businessId));
    return { enrolled };
  },
  'rotate-key': async (o) => {
    const rotated = await rotateApiKey(required(o, 'business-id'));
    await updateLocalCredentials(rotated.business_id, { api_key: rotated.api_key });
    return rotated;
  },
  'set-webhook': async (o) => {
    const businessId = required(o, 'business-id');
    const url = o.clear ? null : required(o, 'url');
    await setWebhookUrl(businessId, url);
    return { business_id: businessId, webhook_url: url };
  },
  'rotate-webhook-secret': async (o) => {
    const rotated = await rotateWebhookSecret(required(o, 'business-id'));
    await updateLocalCredentials(rotated.business_id, { webhook_secret: rotated.webhook_secret });
    return rotated;
  },
  'dead-letters': async (o) => {
    const listings = [];
    for (const source of deadLetterSources(o)) listings.push(await listDeadLetters(source));
    return { dead_letters: listings };
  },
  redrive: async (o) => {
    const reports = [];
    for (const source of deadLetterSources(o)) reports.push(await redriveDeadLetters(source));
    return { redriven: reports };
  },
  'create-network-key': () => issueCredential('network'),
  'create-chain-key': () => issueCredential('chain'),
  'list-credentials': () => listCredentials(),
  'revoke-credential': (o) => revokeCredential(required(o, 'id')),
  'fund-business': (o) => {
    const body = TopupBody.safeParse({ currency: required(o, 'currency'), amount: required(o, 'amount') });
    if (!body.success) throw new ValidationError(body.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })));
    return topUpBusiness(required(o, 'business-id'), body.data, 'operator');
  },
  'index-transactions': () => indexOlderTransactions(),
  audit: async () => {
    const report = await runLedgerAudit();
    if (report.findings.length > 0) process.exitCode = 1;
    return report;
  },
};

function deadLetterSources(options: Options): readonly DeadLetterSource[] {
  const queue = optional(options, 'queue');
  if (queue === undefined) return DEAD_LETTER_SOURCES;
  const source = DEAD_LETTER_SOURCES.find((candidate) => candidate === queue);
  if (!source) throw new UsageError(`--queue must be one of ${DEAD_LETTER_SOURCES.join(', ')}`);
  return [source];
}

function required(options: Options, name: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function optional(options: Options, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}

class UsageError extends Error {}

/** Usage plans exist only behind API Gateway: a deployed stage. */
function deployedUsagePlans(): UsagePlanTarget {
  const target = usagePlanTarget();
  if (!target) throw new UsageError('usage plans exist only on a deployed stage (API Gateway): pass --stage sandbox|production');
  return target;
}

/** The local stack's sandbox business keeps its current keys in `.local/credentials.json` (API.md). */
async function updateLocalCredentials(businessId: string, changes: { api_key?: string; webhook_secret?: string }): Promise<void> {
  if (!localCredentialsFile) return;
  if (await updateSandboxCredentials(localCredentialsFile, businessId, changes)) {
    process.stderr.write(`updated ${localCredentialsFile}\n`);
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        stage: { type: 'string' },
        name: { type: 'string' },
        'webhook-url': { type: 'string' },
        timezone: { type: 'string' },
        'business-id': { type: 'string' },
        url: { type: 'string' },
        clear: { type: 'boolean' },
        currency: { type: 'string' },
        amount: { type: 'string' },
        queue: { type: 'string' },
        id: { type: 'string' },
        rate: { type: 'string' },
        burst: { type: 'string' },
      },
    });
  } catch (error) {
    // node:util's own errors (an unknown option, a missing value) are the caller's mistake.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { positionals, values } = parsed;
  const command = positionals[0];
  if (values.help && (command === undefined || command === 'help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const run = commands[command];
  if (!run) {
    process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    const { synopsis, summary } = COMMAND_USAGE[command] as { synopsis: string; summary?: string };
    process.stdout.write(`usage: npm run admin -- ${synopsis} [--stage sandbox|production]\n${summary ? `  ${summary}\n` : ''}`);
    return 0;
  }
  await useTarget(values.stage);
  // The sandbox credentials file sits next to the stack file a local stack publishes.
  if (values.stage === undefined) localCredentialsFile = resolve(LOCAL_STACK_FILE, '..', 'credentials.json');
  const result = await run(values);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

/**
 * What the operator reads when a command fails: an API error's code and message, and for a
 * validation error each field at fault (the service's own words, as the API would answer them).
 */
function describeFailure(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = (error.fields ?? []).map((field) => `\n  ${field.path}: ${field.message}`).join('');
    return `error: ${error.code}: ${error.message}${fields}`;
  }
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${describeFailure(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);

/**
 * Operator CLI: `npm run admin -- <command> [options]`. Each command prints one JSON object (the
 * usage text below lists them).
 *
 * Without `--stage` it works on the running local stack; `--stage sandbox|production` targets a
 * deployed stage with the caller's AWS credentials. On the local stack, rotating the sandbox
 * business's key or webhook secret also updates `.local/credentials.json`, so the file always
 * holds values that work.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createBusiness, rotateApiKey, rotateWebhookSecret, setWebhookUrl } from '../../shared/services/businesses.ts';
import { issueCredential, listCredentials, revokeCredential } from '../../shared/services/credentials.ts';
import { DEAD_LETTER_SOURCES, listDeadLetters, redriveDeadLetters, type DeadLetterSource } from '../../shared/services/dead-letters.ts';
import { runLedgerAudit } from '../../shared/services/ledger-audit.ts';
import { TopupBody, topUpBusiness } from '../../shared/services/topups.ts';
import { updateSandboxCredentials } from '../local/sandbox-credentials.ts';
import { LOCAL_STACK_FILE, useTarget } from './target.ts';

const USAGE = `usage: npm run admin -- <command> [--stage sandbox|production] [options]
  create-business --name N [--webhook-url U] [--timezone IANA]
  rotate-key --business-id ID              (new API key; the old one is revoked at once)
  set-webhook --business-id ID (--url U | --clear)
  rotate-webhook-secret --business-id ID   (the old secret keeps signing for 24 h)
  dead-letters [--queue otp|events|stream] (what each DLQ holds: ids and counts; default all)
  redrive [--queue otp|events|stream]      (dead letters' events back to their queue; default all)
  create-network-key                       (the card network's key for /network/authorizations and /network/3ds; shown once)
  create-chain-key                         (the chain watcher's key for /network/deposits; shown once)
  list-credentials                         (every key's id, kind, business, creation and revocation; never a key)
  revoke-credential --id ID                (any kind, business API keys too; revoking twice is an error)
  fund-business --business-id ID --currency C --amount A
  audit                                    (exit code 1 if any balance disagrees with its ledger)

A revoked or rotated-out key keeps working until the authorizer's cached verdict expires: up to
5 minutes in AWS, 60 seconds on the local stack.`;

type Options = Record<string, string | boolean | undefined>;

/** Set when the CLI acts on the local stack: where its sandbox credentials file is. */
let localCredentialsFile: string | undefined;

const commands: Record<string, (options: Options) => Promise<unknown>> = {
  'create-business': (o) =>
    createBusiness({ name: required(o, 'name'), webhookUrl: optional(o, 'webhook-url'), timezone: optional(o, 'timezone') }),
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
    if (!body.success) throw new UsageError(body.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
    return topUpBusiness(required(o, 'business-id'), body.data, 'operator');
  },
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

/** The local stack's sandbox business keeps its current keys in `.local/credentials.json` (API.md). */
async function updateLocalCredentials(businessId: string, changes: { api_key?: string; webhook_secret?: string }): Promise<void> {
  if (!localCredentialsFile) return;
  if (await updateSandboxCredentials(localCredentialsFile, businessId, changes)) {
    process.stderr.write(`updated ${localCredentialsFile}\n`);
  }
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
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
    },
  });
  const command = positionals[0];
  const run = command ? commands[command] : undefined;
  if (!run) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  await useTarget(values.stage);
  // The sandbox credentials file sits next to the stack file a local stack publishes.
  if (values.stage === undefined) localCredentialsFile = resolve(LOCAL_STACK_FILE, '..', 'credentials.json');
  const result = await run(values);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);

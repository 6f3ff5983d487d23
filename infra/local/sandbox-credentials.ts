/**
 * The sandbox business every local stack starts with, the card network's key and the chain
 * watcher's key: created on a fresh data directory, reused from `credentials.json` on later starts.
 * A file without `chain_key` predates the one credential entity: its keys were stored as items
 * nothing reads any more, so it counts as no file and a new sandbox business is made.
 *
 * `npm run admin -- rotate-key | rotate-webhook-secret` on the sandbox business updates the file
 * (`updateSandboxCredentials`), so it always holds keys that work.
 */
import { readFile, writeFile } from 'node:fs/promises';

/** API.md's `.local/credentials.json`. */
export interface SandboxCredentials {
  api_base: string;
  business_id: string;
  api_key: string;
  webhook_secret: string;
  network_key: string;
  chain_key: string;
}

export interface SandboxCredentialsOptions {
  file: string;
  apiBase: string;
  /** The table was created by this start: anything in an old credentials file names nothing. */
  freshTable: boolean;
  webhookUrl?: string;
}

/** Must run after the stack's environment is set: it loads the businesses service, which reads it. */
export async function sandboxCredentials(options: SandboxCredentialsOptions): Promise<SandboxCredentials> {
  const businesses = await import('../../shared/services/businesses.ts');
  const stored = options.freshTable ? undefined : await readStored(options.file);
  if (stored) {
    if (options.webhookUrl) await businesses.setWebhookUrl(stored.business_id, options.webhookUrl);
    const current = { ...stored, api_base: options.apiBase };
    if (stored.api_base !== options.apiBase) await writeSandboxCredentials(options.file, current);
    return current;
  }
  const credentials = await import('../../shared/services/credentials.ts');
  const business = await businesses.createBusiness({ name: 'Sandbox business', webhookUrl: options.webhookUrl });
  const sandbox: SandboxCredentials = {
    api_base: options.apiBase,
    business_id: business.business_id,
    api_key: business.api_key,
    webhook_secret: business.webhook_secret,
    network_key: (await credentials.issueCredential('network')).key,
    chain_key: (await credentials.issueCredential('chain')).key,
  };
  await writeSandboxCredentials(options.file, sandbox);
  return sandbox;
}

async function readStored(file: string): Promise<SandboxCredentials | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<SandboxCredentials>;
    if (parsed.business_id && parsed.api_key && parsed.webhook_secret && parsed.network_key && parsed.chain_key) return parsed as SandboxCredentials;
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Writes `changes` into the credentials file if it is the file of `businessId`'s sandbox; says
 * whether it did (another business, or no file: nothing to update).
 */
export async function updateSandboxCredentials(
  file: string,
  businessId: string,
  changes: Partial<Pick<SandboxCredentials, 'api_key' | 'webhook_secret'>>,
): Promise<boolean> {
  const stored = await readStored(file);
  if (!stored || stored.business_id !== businessId) return false;
  await writeSandboxCredentials(file, { ...stored, ...changes });
  return true;
}

export async function writeSandboxCredentials(file: string, credentials: SandboxCredentials): Promise<void> {
  // Secrets: owner-only, like the key file.
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
}

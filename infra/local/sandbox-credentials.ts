/**
 * The sandbox business every local stack starts with, and the network credential: created on a
 * fresh data directory, reused from `credentials.json` on later starts.
 */
import { readFile, writeFile } from 'node:fs/promises';

/** API.md's `.local/credentials.json`. */
export interface SandboxCredentials {
  api_base: string;
  business_id: string;
  api_key: string;
  webhook_secret: string;
  network_key: string;
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
    if (stored.api_base !== options.apiBase) await write(options.file, current);
    return current;
  }
  const business = await businesses.createBusiness({ name: 'Sandbox business', webhookUrl: options.webhookUrl });
  const network = await businesses.createNetworkKey();
  const credentials: SandboxCredentials = {
    api_base: options.apiBase,
    business_id: business.business_id,
    api_key: business.api_key,
    webhook_secret: business.webhook_secret,
    network_key: network.network_key,
  };
  await write(options.file, credentials);
  return credentials;
}

async function readStored(file: string): Promise<SandboxCredentials | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<SandboxCredentials>;
    if (parsed.business_id && parsed.api_key && parsed.webhook_secret && parsed.network_key) return parsed as SandboxCredentials;
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function write(file: string, credentials: SandboxCredentials): Promise<void> {
  // Secrets: owner-only, like the key file.
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Business rules for partner businesses: timezone (which drives the daily and monthly limit
 * windows) and webhook URL.
 */
import { isObviouslyPrivateHost, type WebhookTargetRules } from './webhook-addresses.ts';

export interface Business {
  businessId: string;
  name: string;
  /** IANA timezone; "day" and "month" limit windows are calendar periods in this zone. */
  timezone: string;
  webhookUrl: string | null;
  createdAt: string;
}

export function isValidTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/**
 * A webhook URL must be absolute http(s) without credentials; production requires https; and
 * unless the rules allow private addresses (the local stack only), the host must not be obviously
 * private (loopback or private IP literals in any spelling, `localhost`). (Resolved addresses are
 * checked when the URL is set and on every delivery.)
 */
export function webhookUrlProblem(url: string, rules: WebhookTargetRules): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'must use https (or http in sandbox)';
  if (rules.requireHttps && parsed.protocol !== 'https:') return 'must use https in production';
  if (parsed.username || parsed.password) return 'must not contain credentials';
  if (!rules.allowPrivateAddresses && isObviouslyPrivateHost(parsed.hostname)) return 'must not point at a loopback or private address';
  return undefined;
}

/**
 * Business rules for partner businesses: timezone (which drives the daily and monthly limit
 * windows) and webhook URL.
 */
import type { Stage } from '../config.ts';
import { isObviouslyPrivateHost } from './webhook-addresses.ts';

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
 * A webhook URL must be absolute http(s) without credentials; production only allows https to a
 * host that is not obviously private (loopback, private IP literals, `localhost`). Sandbox and the
 * local stack allow both, so a partner can point webhooks at their own machine. (Resolved
 * addresses are checked when the URL is set in production and on every delivery.)
 */
export function webhookUrlProblem(url: string, stage: Stage): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'must use https (or http in sandbox)';
  if (stage === 'production' && parsed.protocol !== 'https:') return 'must use https in production';
  if (parsed.username || parsed.password) return 'must not contain credentials';
  if (stage === 'production' && isObviouslyPrivateHost(parsed.hostname)) return 'must not point at a loopback or private address in production';
  return undefined;
}

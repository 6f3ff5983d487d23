/**
 * The business's real-time authorization endpoint (API.md "Real-time authorization decisions"):
 * set, read, delete, rotate its secret; and, on the authorization path, the signed call that asks
 * it, within the time left of its `timeout_ms`.
 *
 * The secret is stored only sealed (purpose `decision-secret`) and shown on the first set and on
 * a rotation. After a rotation the old secret keeps signing beside the new one for 24 h, as for
 * webhooks. The authorization path reads the endpoint from a per-container cache that lives
 * `ENDPOINT_CACHE_MS`: a change takes effect within that time, and a warm authorization costs no
 * extra read.
 */
import { randomUUID } from 'node:crypto';
import { config } from '../config.ts';
import { generateWebhookSecret } from '../crypto/credentials.ts';
import { openSecret, sealSecret } from '../crypto/envelope.ts';
import { assertKeyGrant } from '../crypto/local-key-policy.ts';
import { getBusiness, putDecisionEndpoint, removeDecisionEndpoint, requireBusiness, type StoredBusiness, type StoredDecisionEndpoint } from '../db/businesses-repository.ts';
import type { AuthorizationEndpointBody, EndpointReply, StandIn } from '../domain/authorization-decisions.ts';
import { MAX_ANSWER_BYTES } from '../domain/authorization-decisions.ts';
import { nowIso } from '../domain/time.ts';
import { webhookTargetRules } from '../domain/webhook-addresses.ts';
import { ApiError } from '../errors.ts';
import { postWebhook } from '../webhooks/http-post.ts';
import { signWebhook } from '../webhooks/signing.ts';
import { checkedWebhookUrl, PREVIOUS_WEBHOOK_SECRET_VALIDITY_MS } from './businesses.ts';

export interface AuthorizationEndpointView {
  url: string;
  timeout_ms: number;
  stand_in: StandIn;
  /** Only on the first set and on a rotation. */
  secret?: string;
}

function viewOf(endpoint: StoredDecisionEndpoint, secret?: string): AuthorizationEndpointView {
  return { url: endpoint.url, timeout_ms: endpoint.timeoutMs, stand_in: endpoint.standIn, ...(secret ? { secret } : {}) };
}

const secretContext = (businessId: string) => ({ business_id: businessId, purpose: 'decision-secret' as const });

/** `PUT /v1/authorization-endpoint`: sets the URL and settings; a secret is made on the first set. */
export async function setAuthorizationEndpoint(businessId: string, body: AuthorizationEndpointBody): Promise<AuthorizationEndpointView> {
  const url = await checkedWebhookUrl(body.url);
  const current = (await requireBusiness(businessId)).decisionEndpoint;
  const settings = { url, timeoutMs: body.timeout_ms, standIn: body.stand_in, updatedAt: nowIso() };
  if (current) {
    const { url: _url, timeoutMs: _timeout, standIn: _standIn, updatedAt: _updated, ...secrets } = current;
    const next = { ...secrets, ...settings };
    await putDecisionEndpoint(businessId, next, current.secretSealed);
    forget(businessId);
    return viewOf(next);
  }
  const secret = generateWebhookSecret();
  const next: StoredDecisionEndpoint = { ...settings, secretSealed: await sealSecret(secret, secretContext(businessId)) };
  await putDecisionEndpoint(businessId, next, null);
  forget(businessId);
  return viewOf(next, secret);
}

/** `GET /v1/authorization-endpoint` (never the secret). */
export async function getAuthorizationEndpoint(businessId: string): Promise<AuthorizationEndpointView> {
  const endpoint = (await requireBusiness(businessId)).decisionEndpoint;
  if (!endpoint) throw new ApiError('authorization_endpoint_not_set');
  return viewOf(endpoint);
}

/** `DELETE /v1/authorization-endpoint`: authorizations are decided by the platform alone again. */
export async function deleteAuthorizationEndpoint(businessId: string): Promise<AuthorizationEndpointView> {
  const endpoint = (await requireBusiness(businessId)).decisionEndpoint;
  if (!endpoint) throw new ApiError('authorization_endpoint_not_set');
  await removeDecisionEndpoint(businessId);
  forget(businessId);
  return viewOf(endpoint);
}

/** `POST /v1/authorization-endpoint/rotate-secret`: a new secret (shown once); the old one signs 24 h more. */
export async function rotateAuthorizationEndpointSecret(businessId: string): Promise<AuthorizationEndpointView> {
  const endpoint = (await requireBusiness(businessId)).decisionEndpoint;
  if (!endpoint) throw new ApiError('authorization_endpoint_not_set');
  const secret = generateWebhookSecret();
  const next: StoredDecisionEndpoint = {
    ...endpoint,
    secretSealed: await sealSecret(secret, secretContext(businessId)),
    previousSecretSealed: endpoint.secretSealed,
    previousSecretExpiresAt: new Date(Date.now() + PREVIOUS_WEBHOOK_SECRET_VALIDITY_MS).toISOString(),
    updatedAt: nowIso(),
  };
  await putDecisionEndpoint(businessId, next, endpoint.secretSealed);
  forget(businessId);
  return viewOf(next, secret);
}

// ---------------------------------------------------------------------------------------------
// On the authorization path

/** How long a warm container trusts the endpoint it read: a change takes effect within this. */
export const ENDPOINT_CACHE_MS = 5_000;

export interface DecisionEndpoint {
  url: string;
  timeoutMs: number;
  standIn: StandIn;
  /** The current secret, and the previous one while it still signs. */
  secrets: string[];
}

const cached = new Map<string, { endpoint: DecisionEndpoint | null; until: number }>();

function forget(businessId: string): void {
  cached.delete(businessId);
}

/** The business's endpoint, or `null` when it has none (cached per container for `ENDPOINT_CACHE_MS`). */
export async function decisionEndpointOf(businessId: string, nowMs = Date.now()): Promise<DecisionEndpoint | null> {
  const hit = cached.get(businessId);
  if (hit && hit.until > nowMs) {
    // Its secrets were opened for another call: only a row that may open them gets them (the
    // local stack's functions share one process, and so this cache).
    if (hit.endpoint) assertKeyGrant('decrypt', 'decision-secret');
    return hit.endpoint;
  }
  return rememberEndpointOf(businessId, await getBusiness(businessId), nowMs);
}

/**
 * Caches the endpoint of a business record read for another reason (the authorization path reads
 * the business once per container for its timezone), so that read serves both.
 */
export async function rememberEndpointOf(businessId: string, business: StoredBusiness | undefined, nowMs = Date.now()): Promise<DecisionEndpoint | null> {
  const stored = business?.decisionEndpoint;
  let endpoint: DecisionEndpoint | null = null;
  if (stored) {
    const secrets = [await openSecret<string>(stored.secretSealed, secretContext(businessId))];
    if (stored.previousSecretSealed && stored.previousSecretExpiresAt && Date.parse(stored.previousSecretExpiresAt) > nowMs) {
      secrets.push(await openSecret<string>(stored.previousSecretSealed, secretContext(businessId)));
    }
    endpoint = { url: stored.url, timeoutMs: stored.timeoutMs, standIn: stored.standIn, secrets };
  }
  cached.set(businessId, { endpoint, until: nowMs + ENDPOINT_CACHE_MS });
  return endpoint;
}

/**
 * POSTs the signed `authorization.request` and waits at most `budgetMs` for the answer. Never
 * throws: a call that cannot be made or answered in time is an `error` (the stand-in applies).
 * The same address rules as webhooks (public addresses only outside the local stack, checked on
 * the connection's own DNS answer; no redirects).
 */
export async function askEndpoint(endpoint: DecisionEndpoint, payload: unknown, budgetMs: number): Promise<EndpointReply> {
  if (budgetMs <= 0) return { error: 'no_time_left' };
  const body = JSON.stringify(payload);
  const headers = { 'content-type': 'application/json', ...signWebhook(endpoint.secrets, `authreq_${randomUUID()}`, new Date(), body) };
  const outcome = await postWebhook(endpoint.url, headers, body, { ...webhookTargetRules(config()), timeoutMs: budgetMs, answerBytes: MAX_ANSWER_BYTES });
  if ('error' in outcome) return { error: outcome.error === 'timeout' ? 'timeout' : 'unreachable' };
  return { statusCode: outcome.statusCode, body: outcome.body ?? '' };
}

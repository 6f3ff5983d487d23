/**
 * The three authorizers, one per credential kind: each lets in its own kind only, answers a valid
 * key of another kind with a Deny naming the kind its routes need (rendered as a 403), and an
 * unknown, revoked or malformed key with Unauthorized (a 401).
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as authorizeBusiness } from '../../../functions/auth/authorize-business.ts';
import { handler as authorizeChain } from '../../../functions/auth/authorize-chain.ts';
import { handler as authorizeNetwork } from '../../../functions/auth/authorize-network.ts';
import { authorizers } from '../../../shared/routes.ts';
import { keyedHash } from '../../../shared/crypto/keyed-hash.ts';
import { CREDENTIAL_KINDS, type CredentialKind } from '../../../shared/domain/credentials.ts';
import { authorizerEvent } from '../../support/events.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const WHOLE_API = 'arn:aws:execute-api:us-east-1:123456789012:abc123/sandbox/*';

const KEYS: Record<CredentialKind, string> = {
  business: 'cpk_sandbox_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  network: 'cpn_sandbox_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  chain: 'cpc_sandbox_ccccccccccccccccccccccccccccccccccccccccccc',
};
const REVOKED_NETWORK_KEY = 'cpn_sandbox_ddddddddddddddddddddddddddddddddddddddddddd';

const ITEMS: Record<CredentialKind, Record<string, string>> = {
  business: { credentialId: 'key-1', kind: 'business', businessId: 'biz-1', createdAt: '2025-01-01T00:00:00.000Z' },
  network: { credentialId: 'net-1', kind: 'network', createdAt: '2025-01-01T00:00:00.000Z' },
  chain: { credentialId: 'chain-1', kind: 'chain', createdAt: '2025-01-01T00:00:00.000Z' },
};

/** What each authorizer lets through, as the route's handler receives it. */
const ALLOWED_CONTEXT: Record<CredentialKind, Record<string, string>> = {
  business: { credential: 'business', businessId: 'biz-1', keyId: 'key-1' },
  network: { credential: 'network', principal: 'net-1' },
  chain: { credential: 'chain', principal: 'chain-1' },
};

const REQUIRED_CODE: Record<CredentialKind, string> = {
  business: 'api_key_required',
  network: 'network_credential_required',
  chain: 'chain_credential_required',
};

const AUTHORIZER_OF: Record<CredentialKind, (event: ReturnType<typeof authorizerEvent>) => Promise<APIGatewayAuthorizerResult>> = {
  business: authorizeBusiness,
  network: authorizeNetwork,
  chain: authorizeChain,
};

beforeEach(async () => {
  ddb.reset();
  ddb.on(GetCommand).resolves({});
  for (const kind of CREDENTIAL_KINDS) {
    ddb.on(GetCommand, { Key: { PK: `CREDENTIAL#${await keyedHash('credential', KEYS[kind])}`, SK: 'CREDENTIAL' } }).resolves({ Item: ITEMS[kind] });
  }
  ddb.on(GetCommand, { Key: { PK: `CREDENTIAL#${await keyedHash('credential', REVOKED_NETWORK_KEY)}`, SK: 'CREDENTIAL' } }).resolves({
    Item: { ...ITEMS.network, credentialId: 'net-0', revokedAt: '2025-02-01T00:00:00.000Z' },
  });
});

const pairs = CREDENTIAL_KINDS.flatMap((route) => CREDENTIAL_KINDS.map((key) => [route, key] as const));

describe.each(CREDENTIAL_KINDS)('the %s authorizer', (route) => {
  const authorize = AUTHORIZER_OF[route];

  it(`is the ${route} row of the authorizer table`, () => {
    expect(authorizers[route].handler).toBe(`auth/authorize-${route}`);
  });

  it(`allows a ${route} key on the whole API (the verdict is cached per header), with its identity for the handler`, async () => {
    const result = await authorize(authorizerEvent(`Bearer ${KEYS[route]}`));
    expect(result.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: WHOLE_API }]);
    expect(result.context).toEqual(ALLOWED_CONTEXT[route]);
  });

  it.each([undefined, '', 'Basic abc', `Bearer ${KEYS[route]}x`, 'Bearer short', 'Bearer cpk_sandbox_not-a-key-00000000000000000000000'])(
    'answers %j with Unauthorized (401)',
    async (header) => {
      await expect(authorize(authorizerEvent(header))).rejects.toThrow('Unauthorized');
    },
  );

  it(route === 'business' ? 'names the business as the usage plan key (per-business throttling)' : 'names no usage plan key: only businesses have plans', async () => {
    const result = await authorize(authorizerEvent(`Bearer ${KEYS[route]}`));
    expect(result.usageIdentifierKey).toBe(route === 'business' ? ALLOWED_CONTEXT.business.businessId : undefined);
  });

  it('looks keys up by keyed hash, never by the key itself', async () => {
    await authorize(authorizerEvent(`Bearer ${KEYS[route]}`));
    const key = ddb.commandCalls(GetCommand)[0]!.args[0].input.Key as { PK: string };
    expect(key.PK).toMatch(/^CREDENTIAL#/);
    expect(key.PK).not.toContain(KEYS[route]);
  });

  it('answers a revoked key with Unauthorized (401), like an unknown one', async () => {
    await expect(authorize(authorizerEvent(`Bearer ${REVOKED_NETWORK_KEY}`))).rejects.toThrow('Unauthorized');
  });
});

describe.each(pairs.filter(([route, key]) => route !== key))('a %s route called with a %s key', (route, key) => {
  it(`is denied with ${REQUIRED_CODE[route]} (403) in the context, for the whole API`, async () => {
    const result = await AUTHORIZER_OF[route](authorizerEvent(`Bearer ${KEYS[key]}`));
    expect(result.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: WHOLE_API }]);
    expect(result.context).toEqual({ credential: key, errorCode: REQUIRED_CODE[route], errorMessage: expect.stringMatching(/^This route needs /) });
    // Nothing a handler could mistake for an identity.
    expect(result.context).not.toHaveProperty('businessId');
    expect(result.context).not.toHaveProperty('principal');
  });
});

it('renders every refusal message safely inside a JSON gateway template (no quote, no backslash)', async () => {
  for (const [route, key] of pairs.filter(([r, k]) => r !== k)) {
    const result = await AUTHORIZER_OF[route](authorizerEvent(`Bearer ${KEYS[key]}`));
    expect(String(result.context!.errorMessage)).not.toMatch(/["\\]/);
  }
});

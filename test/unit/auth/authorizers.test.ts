import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as authorizeBusiness } from '../../../functions/auth/authorize-business.ts';
import { handler as authorizeNetwork } from '../../../functions/auth/authorize-network.ts';
import { keyedHash } from '../../../shared/crypto/keyed-hash.ts';
import { authorizerEvent } from '../../support/events.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const API_KEY = 'cpk_sandbox_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const NETWORK_KEY = 'cpn_sandbox_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

describe('business authorizer', () => {
  beforeEach(async () => {
    ddb.reset();
    ddb.on(GetCommand).resolves({});
    ddb.on(GetCommand, { Key: { PK: `APIKEY#${await keyedHash('credential', API_KEY)}`, SK: 'APIKEY' } }).resolves({
      Item: { businessId: 'biz-1', keyId: 'key-1' },
    });
  });

  it('maps a known key to its business and allows the whole API (the result is cached per header)', async () => {
    const result = await authorizeBusiness(authorizerEvent(`Bearer ${API_KEY}`));
    expect(result.context).toEqual({ credential: 'business', businessId: 'biz-1', keyId: 'key-1' });
    expect(result.policyDocument.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Resource: 'arn:aws:execute-api:us-east-1:123456789012:abc123/sandbox/*',
    });
  });

  it.each([undefined, '', 'Basic abc', `Bearer ${API_KEY}x`, 'Bearer short'])('rejects %j with Unauthorized', async (header) => {
    await expect(authorizeBusiness(authorizerEvent(header))).rejects.toThrow('Unauthorized');
  });

  it('looks keys up by keyed hash, never by the key itself', async () => {
    await authorizeBusiness(authorizerEvent(`Bearer ${API_KEY}`));
    const key = ddb.commandCalls(GetCommand)[0]!.args[0].input.Key as { PK: string };
    expect(key.PK).not.toContain(API_KEY);
  });

  it('does not accept the network credential', async () => {
    await expect(authorizeBusiness(authorizerEvent(`Bearer ${NETWORK_KEY}`))).rejects.toThrow('Unauthorized');
  });
});

describe('network authorizer', () => {
  beforeEach(async () => {
    ddb.reset();
    ddb.on(GetCommand).resolves({});
    ddb.on(GetCommand, { Key: { PK: `NETWORKKEY#${await keyedHash('credential', NETWORK_KEY)}`, SK: 'NETWORKKEY' } }).resolves({
      Item: { keyId: 'net-1' },
    });
    // A business key stored under the same hash purpose must still not open the network routes.
    ddb.on(GetCommand, { Key: { PK: `APIKEY#${await keyedHash('credential', API_KEY)}`, SK: 'APIKEY' } }).resolves({
      Item: { businessId: 'biz-1', keyId: 'key-1' },
    });
  });

  it('accepts the network credential', async () => {
    const result = await authorizeNetwork(authorizerEvent(`Bearer ${NETWORK_KEY}`));
    expect(result.context).toEqual({ credential: 'network', principal: 'net-1' });
  });

  it('never accepts a business API key', async () => {
    await expect(authorizeNetwork(authorizerEvent(`Bearer ${API_KEY}`))).rejects.toThrow('Unauthorized');
  });
});

import { requestAuthorizer } from '../../shared/http/authorizer.ts';
import { identifyNetworkKey } from '../../shared/services/businesses.ts';

export const handler = requestAuthorizer(async (networkKey) => {
  const identity = await identifyNetworkKey(networkKey);
  return identity && { principalId: `network:${identity.keyId}`, context: { credential: 'network', principal: identity.keyId } };
});

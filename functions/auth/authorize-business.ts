import { requestAuthorizer } from '../../shared/http/authorizer.ts';
import { identifyApiKey } from '../../shared/services/businesses.ts';

export const handler = requestAuthorizer(async (apiKey) => {
  const identity = await identifyApiKey(apiKey);
  return identity && {
    principalId: identity.businessId,
    context: { credential: 'business', businessId: identity.businessId, keyId: identity.keyId },
  };
});

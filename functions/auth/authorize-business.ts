import { credentialAuthorizer } from '../../shared/http/authorizer.ts';

/** Guards the routes that take business API keys (`/v1/...`). */
export const handler = credentialAuthorizer('business');

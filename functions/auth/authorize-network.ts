import { credentialAuthorizer } from '../../shared/http/authorizer.ts';

/** Guards the routes that take the card network's keys (`/network/authorizations...`, `/network/3ds/...`). */
export const handler = credentialAuthorizer('network');

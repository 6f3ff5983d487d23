import { credentialAuthorizer } from '../../shared/http/authorizer.ts';

/** Guards the routes that take the chain watcher's keys (`/network/deposits`). */
export const handler = credentialAuthorizer('chain');

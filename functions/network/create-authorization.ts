import { NetworkAuthorizationBody } from '../../shared/domain/transactions.ts';
import { networkHandler } from '../../shared/http/handler.ts';
import { networkAuthorization } from '../../shared/services/authorizations.ts';

export const handler = networkHandler({ body: NetworkAuthorizationBody }, ({ body }) => networkAuthorization(body));

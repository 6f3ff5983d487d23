import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { networkForcePost } from '../../shared/services/network-postings.ts';

export const handler = operationHandler(api.networkForcePost, ({ body, idempotency }) => networkForcePost(body, idempotency));

import * as api from '../../shared/contracts/transactions.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { networkRefund } from '../../shared/services/network-postings.ts';

export const handler = operationHandler(api.networkRefund, ({ body, idempotency }) => networkRefund(body, idempotency));

import { DepositBody } from '../../shared/domain/wallets.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { simulateDeposit } from '../../shared/services/deposits.ts';

export const handler = httpHandler({ body: DepositBody }, ({ body, auth, idempotency }) => simulateDeposit(auth.businessId, auth.keyId, body, idempotency));

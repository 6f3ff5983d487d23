import { DepositBody } from '../../shared/domain/wallets.ts';
import { chainHandler } from '../../shared/http/handler.ts';
import { networkDeposit } from '../../shared/services/deposits.ts';

export const handler = chainHandler({ body: DepositBody }, ({ body, auth, idempotency }) => networkDeposit(auth.principal, body, idempotency));

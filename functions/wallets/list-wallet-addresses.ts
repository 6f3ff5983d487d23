import * as api from '../../shared/contracts/users.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { listWalletAddresses } from '../../shared/services/wallets.ts';

export const handler = operationHandler(api.listWalletAddresses, ({ params, auth }) => listWalletAddresses(auth.businessId, params.p_user_id));

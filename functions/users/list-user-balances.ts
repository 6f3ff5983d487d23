import * as api from '../../shared/contracts/users.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { listUserBalances } from '../../shared/services/balances.ts';

export const handler = operationHandler(api.listUserBalances, ({ params, auth }) => listUserBalances(auth.businessId, params.p_user_id));

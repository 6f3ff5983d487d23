import * as api from '../../shared/contracts/users.ts';
import { operationHandler } from '../../shared/http/handler.ts';
import { listUsers } from '../../shared/services/users.ts';

export const handler = operationHandler(api.listUsers, ({ query, auth }) => listUsers(auth.businessId, query));

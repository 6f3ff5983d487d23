import { ListUsersQuery } from '../../shared/domain/users.ts';
import { httpHandler } from '../../shared/http/handler.ts';
import { listUsers } from '../../shared/services/users.ts';

export const handler = httpHandler({ query: ListUsersQuery }, ({ query, auth }) => listUsers(auth.businessId, query));

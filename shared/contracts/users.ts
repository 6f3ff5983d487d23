/** Users (B2C cardholders), their balances, deposit addresses and deposits. */
import { CreateUserBody, ListUsersQuery, UpdateUserStatusBody } from '../domain/users.ts';
import { ListDepositsQuery, WalletAddressBody } from '../domain/wallets.ts';
import { pathIds } from '../http/path-ids.ts';
import { operation } from './operation.ts';
import { BalanceList, Deposit, listPage, User, WalletAddress, WalletAddressList } from './resources.ts';

const user = pathIds({ p_user_id: 'user' });

export const createUser = operation({
  id: 'createUser',
  method: 'POST',
  path: '/v1/users',
  credential: 'business',
  tag: 'Users',
  summary: 'Register a user (eKYC)',
  description: 'The eKYC is encrypted at rest; the answer shows a masked view. New users are Active.',
  body: CreateUserBody,
  status: 201,
  response: User,
  errors: ['external_id_taken'],
});

export const listUsers = operation({
  id: 'listUsers',
  method: 'GET',
  path: '/v1/users',
  credential: 'business',
  tag: 'Users',
  summary: 'List users',
  query: ListUsersQuery,
  status: 200,
  response: listPage(User, 'UserList'),
  errors: [],
});

export const getUser = operation({
  id: 'getUser',
  method: 'GET',
  path: '/v1/users/{p_user_id}',
  credential: 'business',
  tag: 'Users',
  summary: 'Get a user',
  params: user,
  status: 200,
  response: User,
  errors: [],
});

export const updateUserStatus = operation({
  id: 'updateUserStatus',
  method: 'PATCH',
  path: '/v1/users/{p_user_id}',
  credential: 'business',
  tag: 'Users',
  summary: 'Suspend or reactivate a user',
  params: user,
  body: UpdateUserStatusBody,
  status: 200,
  response: User,
  errors: [],
});

export const listUserBalances = operation({
  id: 'listUserBalances',
  method: 'GET',
  path: '/v1/users/{p_user_id}/balances',
  credential: 'business',
  tag: 'Users',
  summary: "List a user's balances",
  params: user,
  status: 200,
  response: BalanceList,
  errors: [],
});

export const createWalletAddress = operation({
  id: 'createWalletAddress',
  method: 'POST',
  path: '/v1/users/{p_user_id}/wallet-addresses',
  credential: 'business',
  tag: 'Wallets',
  summary: 'Give a user a deposit address on a chain',
  description: 'One address per user and chain: asking again answers the existing address with `200`.',
  params: user,
  body: WalletAddressBody,
  status: 201,
  otherStatuses: { 200: 'The user already has an address on this chain.' },
  response: WalletAddress,
  errors: ['user_not_active'],
});

export const listWalletAddresses = operation({
  id: 'listWalletAddresses',
  method: 'GET',
  path: '/v1/users/{p_user_id}/wallet-addresses',
  credential: 'business',
  tag: 'Wallets',
  summary: "List a user's deposit addresses",
  params: user,
  status: 200,
  response: WalletAddressList,
  errors: [],
});

export const listUserDeposits = operation({
  id: 'listUserDeposits',
  method: 'GET',
  path: '/v1/users/{p_user_id}/deposits',
  credential: 'business',
  tag: 'Wallets',
  summary: "List a user's deposits",
  params: user,
  query: ListDepositsQuery,
  status: 200,
  response: listPage(Deposit, 'DepositList'),
  errors: [],
});

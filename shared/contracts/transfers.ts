/** Platform transfers between users of one business. */
import { CreateTransferBody, ListTransfersQuery } from '../domain/transfers.ts';
import { pathIds } from '../http/path-ids.ts';
import { operation } from './operation.ts';
import { listPage, Transfer } from './resources.ts';

export const createTransfer = operation({
  id: 'createTransfer',
  method: 'POST',
  path: '/v1/transfers',
  credential: 'business',
  tag: 'Transfers',
  summary: 'Move money between two users',
  description: "Each party's stated name and id number must match its registered eKYC; both users must be Active.",
  body: CreateTransferBody,
  status: 201,
  response: Transfer,
  errors: ['user_not_found', 'same_user', 'ekyc_mismatch', 'user_not_active', 'insufficient_balance'],
});

export const listTransfers = operation({
  id: 'listTransfers',
  method: 'GET',
  path: '/v1/transfers',
  credential: 'business',
  tag: 'Transfers',
  summary: 'List transfers (of the business, or of one user)',
  query: ListTransfersQuery,
  status: 200,
  response: listPage(Transfer, 'TransferList'),
  errors: ['user_not_found'],
});

export const getTransfer = operation({
  id: 'getTransfer',
  method: 'GET',
  path: '/v1/transfers/{id}',
  credential: 'business',
  tag: 'Transfers',
  summary: 'Get a transfer',
  params: pathIds({ id: 'transfer' }),
  status: 200,
  response: Transfer,
  errors: [],
});

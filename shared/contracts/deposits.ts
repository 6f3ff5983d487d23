/** Deposits to users' chain addresses: the chain watcher's report and the sandbox's simulation. */
import { DepositBody } from '../domain/deposit-body.ts';
import { NEW_OR_REPEAT, operation } from './operation.ts';
import { Deposit } from './resources.ts';

const DEPOSIT_ERRORS = ['address_not_found', 'deposit_conflict'] as const;

export const simulateDeposit = operation({
  id: 'simulateDeposit',
  method: 'POST',
  path: '/v1/simulate/deposits',
  credential: 'business',
  sandboxOnly: true,
  tag: 'Sandbox simulator',
  summary: 'Simulate an on-chain deposit to a user\'s address',
  body: DepositBody,
  status: 201,
  otherStatuses: NEW_OR_REPEAT,
  response: Deposit,
  errors: DEPOSIT_ERRORS,
});

export const chainDeposit = operation({
  id: 'chainDeposit',
  method: 'POST',
  path: '/network/deposits',
  credential: 'chain',
  tag: 'Chain watcher',
  summary: "Report a deposit to a platform address",
  body: DepositBody,
  status: 201,
  otherStatuses: NEW_OR_REPEAT,
  response: Deposit,
  errors: DEPOSIT_ERRORS,
});

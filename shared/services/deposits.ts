/**
 * Deposits (API.md "Wallets"): how B2C users are funded. The chain watcher reports each on-chain
 * transfer to one of the platform's addresses (`POST /network/deposits`); in the sandbox a partner
 * simulates one for its own users' addresses (`POST /v1/simulate/deposits`). Each is credited to
 * the user owning the address, exactly once per on-chain identity, in one transaction with its
 * ledger posting and its Deposit webhook event.
 *
 * A deposit is credited whatever the user's status: the coins have arrived and refusing the
 * credit would not send them back; a suspended user simply cannot spend them.
 */
import { FAMILY_OF } from '../domain/chains.ts';
import type { DepositBody } from '../domain/deposit-body.ts';
import { newId } from '../domain/ids.ts';
import { depositLegs, posting } from '../domain/ledger.ts';
import { nowIso } from '../domain/time.ts';
import {
  chargesDepositFee,
  DepositAmountError,
  depositCredit,
  depositView,
  depositWebhookBody,
  sameDeposit,
  type Deposit,
  type DepositView,
  type ListDepositsQuery,
} from '../domain/wallets.ts';
import { ApiError, ValidationError } from '../errors.ts';
import { decodeCursor, listPage, type ListPage } from '../http/cursor.ts';
import { respond, type HttpResult } from '../http/responses.ts';
import { commitDeposit, findDeposit, listUserDeposits } from '../db/deposits-repository.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import { findAddressOwner, type AddressOwner } from '../db/wallets-repository.ts';
import { recordDeposit } from '../metrics.ts';
import { depositFeeBps } from './operator-settings.ts';
import { requireUser } from './users.ts';

/** `POST /v1/simulate/deposits`: only to an address of one of the calling business's users. */
export async function simulateDeposit(
  businessId: string,
  keyId: string,
  body: DepositBody,
  idempotency?: IdempotencyScope,
): Promise<HttpResult<DepositView>> {
  return creditDeposit(body, `simulate:${keyId}`, (owner) => owner.businessId === businessId, idempotency);
}

/**
 * `POST /network/deposits`: the chain watcher reports a deposit to any of the platform's addresses;
 * the source names the watcher's credential.
 */
export async function networkDeposit(watcherCredentialId: string, body: DepositBody, idempotency?: IdempotencyScope): Promise<HttpResult<DepositView>> {
  return creditDeposit(body, `chain:${watcherCredentialId}`, () => true, idempotency);
}

/**
 * `201` with the new deposit; `200` with the recorded one when this on-chain deposit was already
 * credited (a replay moves nothing); `409 deposit_conflict` when a deposit with this identity was
 * recorded with another address, asset or amount (a watcher bug worth a human's look, never a
 * second credit); `404 address_not_found` for an address that is not the platform's (or, when
 * simulating, not one of the caller's users').
 */
async function creditDeposit(
  body: DepositBody,
  source: string,
  mayCredit: (owner: AddressOwner) => boolean,
  idempotency?: IdempotencyScope,
): Promise<HttpResult<DepositView>> {
  // The operator's deposit fee (shared/services/operator-settings.ts): without it, production
  // credits nothing (a 500 that names the parameter) rather than credit with the sandbox's 0.
  const feeBps = chargesDepositFee(body.asset) ? await depositFeeBps() : 0n;
  let credit: Deposit['credit'];
  try {
    credit = depositCredit(body.asset, body.amount, feeBps);
  } catch (error) {
    if (error instanceof DepositAmountError) throw new ValidationError([{ path: 'amount', message: error.message }]);
    throw error;
  }
  const owner = await findAddressOwner(FAMILY_OF[body.chain], body.address);
  if (!owner || !mayCredit(owner)) throw new ApiError('address_not_found');

  const createdAt = nowIso();
  const deposit: Deposit = {
    depositId: newId(),
    businessId: owner.businessId,
    userId: owner.userId,
    chain: body.chain,
    address: body.address,
    txHash: body.txHash,
    position: body.position,
    credit,
    source,
    createdAt,
  };
  const view = depositView(deposit);
  const webhook = depositWebhookBody(deposit);
  const outcome = await commitDeposit({
    deposit,
    posting: posting({
      postingId: newId(),
      kind: 'deposit',
      reference: deposit.depositId,
      legs: depositLegs({ kind: 'user', id: owner.userId }, credit.currency, credit.gross, credit.fee),
      createdAt,
    }),
    event: {
      eventId: newId(),
      businessId: owner.businessId,
      type: webhook.type,
      queue: 'events',
      payload: JSON.stringify(webhook),
      createdAt,
    },
    idempotencyCompletion: idempotency?.completionItem(view),
  });
  if (outcome === 'committed') {
    recordDeposit();
    return respond(201, view);
  }

  idempotency?.discardCompletion();
  const recorded = await findDeposit(body.chain, body.txHash, body.position);
  if (!recorded) throw new ApiError('service_unavailable');
  if (!mayCredit({ userId: recorded.userId, businessId: recorded.businessId }) || !sameDeposit(recorded, deposit)) {
    throw new ApiError('deposit_conflict');
  }
  return respond(200, depositView(recorded));
}

/** `GET /v1/users/{p_user_id}/deposits`: newest first, one page. */
export async function listDeposits(businessId: string, userId: string, query: ListDepositsQuery): Promise<ListPage<DepositView>> {
  await requireUser(businessId, userId);
  const scope = { businessId, list: `deposits?p_user_id=${userId}` };
  const startKey = await decodeCursor(scope, query.cursor);
  const page = await listUserDeposits(userId, query.limit, startKey);
  return listPage(scope, page.deposits.map(depositView), page.lastKey);
}

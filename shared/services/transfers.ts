/**
 * Platform transfers (API.md): `POST /v1/transfers` moves an available balance from one user of
 * the business to another, instantly and atomically, after checking each party's stated identity
 * against the keyed-HMAC fingerprints made at registration (names and id number, normalized for
 * case and spaces; the eKYC is never decrypted).
 *
 * The checks run in this order, and every rejection moves nothing:
 *   400 validation_error (body, amount precision) → 422 same_user → 404 user_not_found (either
 *   party missing or of another business) → 422 ekyc_mismatch → 409 user_not_active →
 *   422 insufficient_balance (decided inside the transaction, so it holds under concurrency).
 */
import { newId } from '../domain/ids.ts';
import { posting, transferLegs } from '../domain/ledger.ts';
import { MoneyFormatError, parseMoney } from '../domain/money.ts';
import { nowIso } from '../domain/time.ts';
import {
  transferView,
  transferWebhookBody,
  type CreateTransferBody,
  type ListTransfersQuery,
  type Transfer,
  type TransferView,
} from '../domain/transfers.ts';
import { ApiError, notFound, ValidationError } from '../errors.ts';
import { decodeCursor, type CursorScope, listPage, type ListPage } from '../http/cursor.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import { commitTransfer, getTransfer, listBusinessTransfers, listUserTransfers, userNotActive } from '../db/transfers-repository.ts';
import { ekycMatches, requireUser } from './users.ts';

/** `POST /v1/transfers` → 201, status `Completed`. `requestedBy` is the caller's API key id. */
export async function createTransfer(
  businessId: string,
  requestedBy: string,
  body: CreateTransferBody,
  idempotency?: IdempotencyScope,
): Promise<TransferView> {
  let amount: bigint;
  try {
    amount = parseMoney(body.amount, body.currency);
  } catch (error) {
    if (error instanceof MoneyFormatError) throw new ValidationError([{ path: 'amount', message: `${error.message} for ${body.currency}` }]);
    throw error;
  }
  const senderId = body.sender_party.p_user_id;
  const receiverId = body.receiver_party.p_user_id;
  if (senderId === receiverId) throw new ApiError('same_user');

  const [sender, receiver] = await Promise.all([party(businessId, senderId, 'sender'), party(businessId, receiverId, 'receiver')]);
  const [senderMatches, receiverMatches] = await Promise.all([ekycMatches(sender, body.sender_party), ekycMatches(receiver, body.receiver_party)]);
  if (!senderMatches || !receiverMatches) {
    throw new ApiError('ekyc_mismatch', { party: !senderMatches && !receiverMatches ? 'both' : !senderMatches ? 'sender' : 'receiver' });
  }
  if (sender.status !== 'Active') throw userNotActive('sender');
  if (receiver.status !== 'Active') throw userNotActive('receiver');

  const createdAt = nowIso();
  const transfer: Transfer = {
    transferId: newId(),
    businessId,
    senderUserId: senderId,
    receiverUserId: receiverId,
    currency: body.currency,
    amount,
    reference: body.reference ?? null,
    requestedBy,
    createdAt,
  };
  const view = transferView(transfer);
  const webhook = transferWebhookBody(transfer);
  await commitTransfer({
    transfer,
    posting: posting({
      postingId: newId(),
      kind: 'transfer',
      reference: transfer.transferId,
      legs: transferLegs({ kind: 'user', id: senderId }, { kind: 'user', id: receiverId }, body.currency, amount),
      createdAt,
    }),
    event: {
      eventId: newId(),
      businessId,
      type: webhook.type,
      queue: 'events',
      payload: JSON.stringify(webhook),
      createdAt,
    },
    idempotencyCompletion: idempotency?.completionItem(view),
  });
  return view;
}

/** `GET /v1/transfers/{id}`; another business's transfer is a 404 like a missing one. */
export async function getTransferView(businessId: string, transferId: string): Promise<TransferView> {
  const transfer = await getTransfer(transferId);
  if (!transfer || transfer.businessId !== businessId) throw notFound('transfer');
  return transferView(transfer);
}

/**
 * `GET /v1/transfers?p_user_id=`: a user's transfers (sent and received), or without it the
 * business's; newest first. A `p_user_id` that is not the caller's user is `404 user_not_found`.
 */
export async function listTransfers(businessId: string, query: ListTransfersQuery): Promise<ListPage<TransferView>> {
  const userId = query.p_user_id;
  if (userId !== undefined) await requireUser(businessId, userId);
  const scope: CursorScope = { businessId, list: `transfers?p_user_id=${userId ?? ''}` };
  const startKey = await decodeCursor(scope, query.cursor);
  const page = userId === undefined ? await listBusinessTransfers(businessId, query.limit, startKey) : await listUserTransfers(userId, query.limit, startKey);
  return listPage(scope, page.transfers.map(transferView), page.lastKey);
}

/** A party's user, or a 404 that says which party was not found. */
async function party(businessId: string, userId: string, role: 'sender' | 'receiver') {
  try {
    return await requireUser(businessId, userId);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'user_not_found') throw new ApiError('user_not_found', { party: role });
    throw error;
  }
}

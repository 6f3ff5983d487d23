/**
 * The bare baseline of the authorization benchmark: the database round trips of one approval and
 * nothing else (on the network route, with the claim of the network's id). One strongly consistent GetItem of the card and one TransactWriteItems whose items
 * come from the pure function the engine's `commitApproval` commits (`approvalItems`: spend
 * counters, the daily count, the hold on one escrow shard, card version check, transaction, posting, outbox event), committed through the
 * same tagged transaction helper and document client configuration (`shared/db/transact.ts`,
 * `shared/db/client.ts`). No HTTP, no authorizer, no middleware, no validation, no response
 * rendering: what remains is what any implementation of the approve path must pay.
 *
 * The plan is the one `decide()` in shared/services/authorizations.ts builds for a B2B card in its
 * own currency with every limit off and its spending controls on (the daily count conditional,
 * the merchant checks decided before the transaction); the transaction built from it is the
 * production one by construction.
 */
import { INITIAL_ESCROW_SHARDS, shardsFor } from '../shared/domain/escrow.ts';
import { newId } from '../shared/domain/ids.ts';
import { holdLegs, posting, type BalanceOwner } from '../shared/domain/ledger.ts';
import { windowPeriods } from '../shared/domain/spend-windows.ts';
import { nowIso } from '../shared/domain/time.ts';
import { networkAuthorizationFingerprint, transactionWebhookBody, type CardTransaction } from '../shared/domain/transactions.ts';
import { requireBusiness } from '../shared/db/businesses-repository.ts';
import { getCard } from '../shared/db/cards-repository.ts';
import { approvalItems } from '../shared/db/transactions-repository.ts';
import { transactWrite } from '../shared/db/transact.ts';

const MERCHANT = { merchantId: '', merchantName: 'Bench', merchantCountry: '', merchantCity: '', mcc: null };

/** The business timezone, read once (the engine caches it per container too). */
export async function businessTimezone(businessId: string): Promise<string> {
  return (await requireBusiness(businessId)).timezone;
}

/**
 * One approval's database work for `cardId`, holding `amountMinor` of the card's currency.
 * With `networkAuthorizationId`, the network route's: the transaction also claims the network's
 * id (what makes a resent message a repeat, not a second approval: work any implementation of that
 * route must do) and the escrow shard is the one the network's id picks. Answers the authorization
 * committed; throws unless the transaction committed as an approval.
 */
export async function bareApproval(cardId: string, amountMinor: bigint, amountText: string, timezone: string, networkAuthorizationId?: string): Promise<CardTransaction> {
  const card = await getCard(cardId);
  if (!card) throw new Error(`bench card ${cardId} is missing`);
  const at = new Date();
  const now = nowIso();
  const periods = windowPeriods(at, timezone);
  const txn: CardTransaction = {
    transactionId: newId(),
    businessId: card.businessId,
    cardId: card.cardId,
    mode: card.mode,
    userId: card.userId,
    status: 'Authorized',
    type: 'Sales',
    transactionCurrency: card.currency,
    transactionAmount: amountText,
    localCurrency: card.currency,
    localAmount: amountMinor,
    fee: 0n,
    heldAmount: amountMinor,
    remainingHold: amountMinor,
    reversedAmount: 0n,
    settledAmount: null,
    windows: periods,
    merchant: MERCHANT,
    declineReason: null,
    networkAuthorizationId: networkAuthorizationId ?? null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  const owner: BalanceOwner = { kind: 'business', id: card.businessId };
  const result = await transactWrite(
    approvalItems({
      transaction: txn,
      owner,
      // One balance item held, as the engine's warm path does: the escrow shard the id picks among
      // the initial ones (the engine's warm-up refilled them from the pool).
      hold: { kind: 'shard', shard: shardsFor(networkAuthorizationId ?? txn.transactionId, INITIAL_ESCROW_SHARDS)[0]! },
      ...(networkAuthorizationId
        ? {
            claim: {
              networkAuthorizationId,
              cardId: card.cardId,
              transactionId: txn.transactionId,
              fingerprint: networkAuthorizationFingerprint({ cardId: card.cardId, amount: amountText, currency: card.currency, merchant: MERCHANT }),
            },
          }
        : {}),
      limits: card.limits,
      periods,
      maxDailyCount: card.controls.maxDailyCount,
      cardVersion: card.version,
      posting: posting({ postingId: newId(), kind: 'authorization', reference: txn.transactionId, legs: holdLegs(owner, card.currency, amountMinor), createdAt: now }),
      event: { eventId: newId(), businessId: card.businessId, type: 'transaction.authorization', queue: 'events', payload: JSON.stringify(transactionWebhookBody('Authorization', txn)), createdAt: now },
    }),
  );
  if (!result.committed) throw new Error(`bare approval refused: ${[...result.failed].join(', ')}`);
  return txn;
}

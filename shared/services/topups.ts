/**
 * Funding a business's (B2B) balance: `POST /v1/simulate/topups` in the sandbox and
 * `npm run admin -- fund-business` for operators. One transaction: the credit, its ledger posting,
 * the top-up record and (for the API) the idempotency record.
 */
import { newId } from '../domain/ids.ts';
import { creditLegs, posting } from '../domain/ledger.ts';
import { CARD_CURRENCIES, formatMoney, MoneyFormatError, parseMoney, type CardCurrency } from '../domain/money.ts';
import { nowIso } from '../domain/time.ts';
import { ValidationError } from '../errors.ts';
import { requireBusiness } from '../db/businesses-repository.ts';
import type { IdempotencyScope } from '../db/idempotency-repository.ts';
import { creditItem, postingItem } from '../db/ledger-items.ts';
import { tableName } from '../db/client.ts';
import { topupKeys } from '../db/keys.ts';
import { transaction } from '../db/transact.ts';
import { idempotencyInProgress } from '../db/idempotency-repository.ts';
import type { TopupBody } from '../domain/transactions.ts';


export interface TopupView {
  id: string;
  p_business_id: string;
  status: 'Completed';
  currency: CardCurrency;
  amount: string;
  p_created_at: string;
}

export async function topUpBusiness(businessId: string, body: TopupBody, source: string, idempotency?: IdempotencyScope): Promise<TopupView> {
  await requireBusiness(businessId);
  let amount: bigint;
  try {
    amount = parseMoney(body.amount, body.currency);
  } catch (error) {
    if (error instanceof MoneyFormatError) throw new ValidationError([{ path: 'amount', message: error.message }]);
    throw error;
  }
  const topupId = newId();
  const createdAt = nowIso();
  const owner = { kind: 'business' as const, id: businessId };
  const view: TopupView = {
    id: topupId,
    p_business_id: businessId,
    status: 'Completed',
    currency: body.currency,
    amount: formatMoney(amount, body.currency),
    p_created_at: createdAt,
  };
  const tx = transaction<'idempotency'>()
    .add(creditItem(owner, body.currency, amount))
    .add(postingItem(posting({ postingId: newId(), kind: 'topup', reference: topupId, legs: creditLegs(owner, body.currency, amount, 'funding'), createdAt })))
    .add({
      Put: {
        TableName: tableName(),
        Item: { ...topupKeys.topup(topupId), entity: 'topup', topupId, businessId, currency: body.currency, amount, source, createdAt },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    });
  if (idempotency) tx.add(idempotency.completionItem(view), 'idempotency');
  if (!(await tx.commit()).committed) throw idempotencyInProgress();
  return view;
}

/**
 * Platform transfers (API.md "Platform transfers"): instant moves of an available balance from
 * one user of a business to another, after both parties' stated identities match their eKYC.
 *
 * Pure: request schemas, the record, its view and its webhook body.
 */
import * as z from '../zod.ts';
import type { EventPayload, TransferView } from './event-types.ts';
import { CURRENCY_EXPONENTS, formatMoney, type Currency } from './money.ts';
import { PositiveDecimal } from './transactions.ts';

const CURRENCIES = Object.keys(CURRENCY_EXPONENTS) as [Currency, ...Currency[]];

/** The identity a party states; compared with the registered eKYC through its fingerprints. */
const TransferParty = z.object({
  p_user_id: z.string().check(z.minLength(1), z.maxLength(64)),
  first_name: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
  last_name: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
  id_number: z.string().check(z.trim(), z.minLength(1), z.maxLength(64)),
});
export type TransferParty = z.output<typeof TransferParty>;

export const CreateTransferBody = z.object({
  sender_party: TransferParty,
  receiver_party: TransferParty,
  currency: z.enum(CURRENCIES),
  amount: PositiveDecimal,
  reference: z.optional(z.string().check(z.maxLength(140))),
});
export type CreateTransferBody = z.output<typeof CreateTransferBody>;

export const ListTransfersQuery = z.object({
  /** Any text: a filter names a user, and one that is not the caller's is a 404 (the service decides). */
  p_user_id: z.optional(z.string()),
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});
export type ListTransfersQuery = z.output<typeof ListTransfersQuery>;

export interface Transfer {
  transferId: string;
  businessId: string;
  senderUserId: string;
  receiverUserId: string;
  currency: Currency;
  /** Minor units of `currency`. */
  amount: bigint;
  reference: string | null;
  /** The API key id that asked for it (audit). */
  requestedBy: string;
  createdAt: string;
}

/** A transfer as the API and the `transfer.completed` webhook show it (schema in event-types.ts). */
export type { TransferView };

export function transferView(transfer: Transfer): TransferView {
  return {
    id: transfer.transferId,
    p_business_id: transfer.businessId,
    status: 'Completed',
    sender_party: { p_user_id: transfer.senderUserId },
    receiver_party: { p_user_id: transfer.receiverUserId },
    currency: transfer.currency,
    amount: formatMoney(transfer.amount, transfer.currency),
    reference: transfer.reference,
    p_created_at: transfer.createdAt,
  };
}

/** The Transfer webhook body, in the shape of the transaction webhook (`action`, `type` + the resource). */
export function transferWebhookBody(transfer: Transfer): EventPayload<'transfer.completed'> {
  return { action: 'Transfer', type: 'transfer.completed', transfer: transferView(transfer) };
}

/** `npm run admin -- audit`: recompute every balance from the ledger and report each difference. */
import { scanBalances, scanPostingLegs } from '../db/ledger-audit-repository.ts';
import { auditLedger, type AuditReport } from '../domain/ledger-audit.ts';

export async function runLedgerAudit(): Promise<AuditReport> {
  // Legs first: a posting committed between the two reads then shows as a balance ahead of its
  // ledger, never silently; run the audit on a quiet ledger for a clean answer.
  const [legs, balances] = await Promise.all([scanPostingLegs(), scanBalances()]);
  return auditLedger(balances, legs);
}

/**
 * How long past its due time an event waits before the sweeper presumes its message lost
 * (shared/domain/webhook-delivery.ts). On its own so that shared/config.ts, in every function,
 * can default to it without importing the event catalogue (and its chain-address code) with it.
 */
export const SWEEP_GRACE_SECONDS = 120;

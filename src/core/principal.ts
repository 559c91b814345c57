// Who a request acts for, as authentication found it. Everything downstream (limits, budgets, labels,
// the ledger, audit) reads the Principal; only `id` is always there, the rest comes from the key's record.

export interface Principal {
  /** The key id, or `anonymous`: the `identity_id` log field, ledger column and metric label value. */
  readonly id: string;
  /** The key's human name, for listings and audit; never used for decisions. */
  readonly name?: string;
  readonly user?: string;
  readonly team?: string;
  /** Public model names this principal may call; absent means every configured model. */
  readonly allowedModels?: readonly string[];
  /** Rates this principal may not exceed; an absent figure is unlimited. */
  readonly limits?: PrincipalLimits;
  /** The key's own spend caps (user and team budgets live in the budget store); absent means none. */
  readonly budget?: PrincipalBudget;
}

export interface PrincipalLimits {
  readonly requestsPerMinute?: number;
  /** Tokens (input estimated before the call, settled with the reported usage after) per minute. */
  readonly tokensPerMinute?: number;
  /** Requests of this principal in flight at once. */
  readonly maxParallel?: number;
}

/** US dollars per UTC day and per UTC calendar month; an absent figure is no cap. */
export interface PrincipalBudget {
  readonly dailyUsd?: number;
  readonly monthlyUsd?: number;
}

/** The one Principal of every request on an open gateway (no keys): shared and frozen, never allocated per request. */
export const ANONYMOUS: Principal = Object.freeze({ id: 'anonymous' });

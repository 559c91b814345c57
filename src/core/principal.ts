// Who a request acts for, as authentication found it. Everything downstream (limits, budgets, labels,
// the ledger, audit) reads the Principal; only `id` is always there, the rest comes from richer key stores.

export interface Principal {
  /** The key id, or `anonymous`: the `identity_id` log field, ledger column and metric label value. */
  readonly id: string;
  readonly user?: string;
  readonly team?: string;
  /** Public model names this principal may call; absent means every configured model. */
  readonly allowedModels?: readonly string[];
  /** Rates this principal may not exceed; an absent figure is unlimited. */
  readonly limits?: PrincipalLimits;
  /** Spend this principal may not exceed; absent means no budget. */
  readonly budget?: PrincipalBudget;
}

export interface PrincipalLimits {
  readonly requestsPerMinute?: number;
  readonly tokensPerMinute?: number;
}

export interface PrincipalBudget {
  readonly usd: number;
  /** The budget renews every this many seconds. */
  readonly windowSeconds: number;
}

/** The one Principal of every request on an open gateway (no keys): shared and frozen, never allocated per request. */
export const ANONYMOUS: Principal = Object.freeze({ id: 'anonymous' });

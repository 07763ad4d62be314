/**
 * AccountLock, an entry module beside src/index.ts: one Durable Object per Cloudflare account
 * (idFromName(accountId)). It hands out the reconcile lease with a fencing token, persisted before
 * it is returned, so at most one run writes to an account at a time and a stale run can detect
 * that it lost the lease. Its alarm runs the account's grant timers inside the object that holds
 * the lease; being an entry module, it may wire the reconciler in without an import cycle.
 */
import { DurableObject } from "cloudflare:workers";
import {
  type AcquireResult,
  acquireLease,
  checkLease,
  FREE_LEASE,
  type LeaseCheck,
  type LeaseState,
  releaseLease,
  renewLease,
} from "./domain/lease";
import {
  FRESH_BUDGET,
  holdCalls,
  type Lane,
  preemptSweeps,
  type RateBudgetConfig,
  type RateBudgetState,
  type Reservation,
  refundCalls,
  reserveCalls,
} from "./domain/rate-budget";
import type { AccountLockRpc, LockClient } from "./lock/lock-client";
import { createReconcileDeps } from "./reconciler/deps";
import { runGrantTimers } from "./reconciler/grant-timers";

const LEASE_KEY = "lease";
const BUDGET_KEY = "rate-budget";
/** The Cloudflare account id this object serves (idFromName cannot be reversed). */
const ACCOUNT_KEY = "account-id";

export class AccountLock extends DurableObject<Env> implements AccountLockRpc {
  private lease: LeaseState = FREE_LEASE;
  private budget: RateBudgetState = FRESH_BUDGET;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.lease = (await ctx.storage.get<LeaseState>(LEASE_KEY)) ?? FREE_LEASE;
      this.budget = (await ctx.storage.get<RateBudgetState>(BUDGET_KEY)) ?? FRESH_BUDGET;
    });
  }

  /** Grants up to `wanted` Cloudflare API calls to `lane` under the account's budget. */
  async reserveCalls(lane: Lane, wanted: number, config: RateBudgetConfig): Promise<Reservation> {
    const { next, result } = reserveCalls(this.budget, config, lane, wanted, Date.now());
    await this.saveBudget(next);
    return result;
  }

  /** Gives back `calls` granted but not sent. */
  async refundCalls(calls: number): Promise<void> {
    await this.saveBudget(refundCalls(this.budget, calls));
  }

  /** Stops every call of the account until `untilMs` (epoch ms), for `reason`. */
  async holdCalls(untilMs: number, reason: string): Promise<void> {
    await this.saveBudget(holdCalls(this.budget, untilMs, reason));
  }

  /** Makes sweeps yield until `untilMs` (epoch ms; 0 ends it). */
  async preemptSweeps(untilMs: number): Promise<void> {
    await this.saveBudget(preemptSweeps(this.budget, untilMs));
  }

  /** The budget as stored, for tests and status pages. */
  budgetState(): RateBudgetState {
    return this.budget;
  }

  /** Takes the lease for `holder` (a run id) for `ttlMs` milliseconds. */
  async acquire(holder: string, ttlMs: number): Promise<AcquireResult> {
    const { next, result } = acquireLease(this.lease, holder, Date.now(), ttlMs);
    await this.save(next);
    return result;
  }

  /** Extends the lease named by `token` by `ttlMs` from now. */
  async renew(token: number, ttlMs: number): Promise<LeaseCheck> {
    const { next, result } = renewLease(this.lease, token, Date.now(), ttlMs);
    await this.save(next);
    return result;
  }

  /** Whether `token` is still the live lease. */
  check(token: number): LeaseCheck {
    return checkLease(this.lease, token, Date.now());
  }

  /** Frees the lease if `token` is current. */
  async release(token: number): Promise<void> {
    await this.save(releaseLease(this.lease, token));
  }

  /** The current lease, for status pages and tests. */
  state(): LeaseState {
    return this.lease;
  }

  /**
   * Makes the alarm fire no later than `atMs` (epoch ms); an earlier alarm already set is kept,
   * so concurrent callers never push a due timer back. Remembers `accountId` for the alarm.
   */
  async armGrantAlarm(accountId: string, atMs: number): Promise<void> {
    await this.ctx.storage.put(ACCOUNT_KEY, accountId);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || atMs < current) {
      await this.ctx.storage.setAlarm(atMs);
    }
  }

  /**
   * Grant timers for the account: due grants expire or start, a reconcile removes or creates
   * their policies (taking the lease through this object directly, so it cannot deadlock on
   * itself), due callbacks are sent, and the alarm is re-armed for the next timer. Idempotent.
   * A throw makes the platform retry the alarm with backoff.
   */
  override async alarm(): Promise<void> {
    const accountId = await this.ctx.storage.get<string>(ACCOUNT_KEY);
    if (accountId === undefined) {
      return;
    }
    const outcome = await runGrantTimers(
      { ...createReconcileDeps(this.env), lock: this.localLock() },
      accountId,
    );
    if (outcome.nextAtMs === null) {
      await this.ctx.storage.deleteAlarm();
    } else {
      await this.ctx.storage.setAlarm(outcome.nextAtMs);
    }
  }

  /** The lease operations of this very object, for work running inside it. */
  private localLock(): LockClient {
    return {
      acquire: (_accountId, holder, ttlMs) => this.acquire(holder, ttlMs),
      check: async (_accountId, token) => this.check(token),
      renew: (_accountId, token, ttlMs) => this.renew(token, ttlMs),
      release: (_accountId, token) => this.release(token),
      armGrantAlarm: (accountId, atMs) => this.armGrantAlarm(accountId, atMs),
      reserveCalls: (_accountId, lane, wanted, config) => this.reserveCalls(lane, wanted, config),
      refundCalls: (_accountId, calls) => this.refundCalls(calls),
      holdCalls: (_accountId, untilMs, reason) => this.holdCalls(untilMs, reason),
      preemptSweeps: (_accountId, untilMs) => this.preemptSweeps(untilMs),
    };
  }

  private async saveBudget(next: RateBudgetState): Promise<void> {
    if (next === this.budget) {
      return;
    }
    await this.ctx.storage.put(BUDGET_KEY, next);
    this.budget = next;
  }

  private async save(next: LeaseState): Promise<void> {
    if (next === this.lease) {
      return;
    }
    await this.ctx.storage.put(LEASE_KEY, next);
    this.lease = next;
  }
}

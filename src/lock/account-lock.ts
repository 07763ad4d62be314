/**
 * AccountLock: one Durable Object per Cloudflare account (idFromName(accountId)). It hands out the
 * reconcile lease with a fencing token, persisted before it is returned, so at most one run
 * writes to an account at a time and a stale run can detect that it lost the lease.
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
} from "../domain/lease";

const LEASE_KEY = "lease";

export class AccountLock extends DurableObject<Env> {
  private lease: LeaseState = FREE_LEASE;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.lease = (await ctx.storage.get<LeaseState>(LEASE_KEY)) ?? FREE_LEASE;
    });
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

  private async save(next: LeaseState): Promise<void> {
    if (next === this.lease) {
      return;
    }
    await this.ctx.storage.put(LEASE_KEY, next);
    this.lease = next;
  }
}

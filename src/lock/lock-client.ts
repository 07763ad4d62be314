/**
 * What callers use to reach an account's AccountLock. The only place that calls idFromName. It
 * names the object's RPC methods in an interface of its own (the class implements it), so it
 * imports nothing of the entry module and src/api never loads `cloudflare:workers`.
 */
import type { AcquireResult, LeaseCheck, LeaseState } from "../domain/lease";
import type { Lane, RateBudgetConfig, RateBudgetState, Reservation } from "../domain/rate-budget";

/** The AccountLock Durable Object's RPC methods (see src/account-lock.ts). */
export interface AccountLockRpc extends Rpc.DurableObjectBranded {
  acquire(holder: string, ttlMs: number): Promise<AcquireResult>;
  check(token: number): LeaseCheck;
  renew(token: number, ttlMs: number): Promise<LeaseCheck>;
  release(token: number): Promise<void>;
  state(): LeaseState;
  armGrantAlarm(accountId: string, atMs: number): Promise<void>;
  reserveCalls(lane: Lane, wanted: number, config: RateBudgetConfig): Promise<Reservation>;
  refundCalls(calls: number): Promise<void>;
  holdCalls(untilMs: number, reason: string): Promise<void>;
  preemptSweeps(untilMs: number): Promise<void>;
  budgetState(): RateBudgetState;
}

/** Lease operations on one account's lock. */
export interface LockClient {
  acquire(accountId: string, holder: string, ttlMs: number): Promise<AcquireResult>;
  check(accountId: string, token: number): Promise<LeaseCheck>;
  renew(accountId: string, token: number, ttlMs: number): Promise<LeaseCheck>;
  release(accountId: string, token: number): Promise<void>;
  /** Makes the account's alarm fire no later than `atMs` (epoch ms), for grant timers. */
  armGrantAlarm(accountId: string, atMs: number): Promise<void>;
  /** Grants up to `wanted` Cloudflare API calls to `lane` under the account's budget. */
  reserveCalls(
    accountId: string,
    lane: Lane,
    wanted: number,
    config: RateBudgetConfig,
  ): Promise<Reservation>;
  /** Gives back calls granted but not sent. */
  refundCalls(accountId: string, calls: number): Promise<void>;
  /** Stops every call of the account until `untilMs` (epoch ms). */
  holdCalls(accountId: string, untilMs: number, reason: string): Promise<void>;
  /** Makes the account's sweeps yield until `untilMs` (epoch ms; 0 ends it). */
  preemptSweeps(accountId: string, untilMs: number): Promise<void>;
}

/** A LockClient over the ACCOUNT_LOCK namespace. */
export function createLockClient<T extends AccountLockRpc>(
  namespace: DurableObjectNamespace<T>,
): LockClient {
  const stub = (accountId: string) => namespace.get(namespace.idFromName(accountId));
  return {
    acquire: (accountId, holder, ttlMs) => stub(accountId).acquire(holder, ttlMs),
    check: (accountId, token) => stub(accountId).check(token),
    renew: (accountId, token, ttlMs) => stub(accountId).renew(token, ttlMs),
    release: (accountId, token) => stub(accountId).release(token),
    armGrantAlarm: (accountId, atMs) => stub(accountId).armGrantAlarm(accountId, atMs),
    reserveCalls: (accountId, lane, wanted, config) =>
      stub(accountId).reserveCalls(lane, wanted, config),
    refundCalls: (accountId, calls) => stub(accountId).refundCalls(calls),
    holdCalls: (accountId, untilMs, reason) => stub(accountId).holdCalls(untilMs, reason),
    preemptSweeps: (accountId, untilMs) => stub(accountId).preemptSweeps(untilMs),
  };
}

/** The account's lease as stored (holder null when free), for status pages; never takes it. */
export function readLease<T extends AccountLockRpc>(
  namespace: DurableObjectNamespace<T>,
  accountId: string,
): Promise<LeaseState> {
  return Promise.resolve(namespace.get(namespace.idFromName(accountId)).state());
}

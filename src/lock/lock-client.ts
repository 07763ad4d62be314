/**
 * What callers use to reach an account's AccountLock. The only place that calls idFromName, and
 * it imports the class as a type only so src/api never loads `cloudflare:workers`.
 */
import type { AcquireResult, LeaseCheck } from "../domain/lease";
import type { AccountLock } from "./account-lock";

/** Lease operations on one account's lock. */
export interface LockClient {
  acquire(accountId: string, holder: string, ttlMs: number): Promise<AcquireResult>;
  check(accountId: string, token: number): Promise<LeaseCheck>;
  renew(accountId: string, token: number, ttlMs: number): Promise<LeaseCheck>;
  release(accountId: string, token: number): Promise<void>;
  /** Makes the account's alarm fire no later than `atMs` (epoch ms), for grant timers. */
  armGrantAlarm(accountId: string, atMs: number): Promise<void>;
}

/** A LockClient over the ACCOUNT_LOCK namespace. */
export function createLockClient(namespace: DurableObjectNamespace<AccountLock>): LockClient {
  const stub = (accountId: string) => namespace.get(namespace.idFromName(accountId));
  return {
    acquire: (accountId, holder, ttlMs) => stub(accountId).acquire(holder, ttlMs),
    check: (accountId, token) => stub(accountId).check(token),
    renew: (accountId, token, ttlMs) => stub(accountId).renew(token, ttlMs),
    release: (accountId, token) => stub(accountId).release(token),
    armGrantAlarm: (accountId, atMs) => stub(accountId).armGrantAlarm(accountId, atMs),
  };
}

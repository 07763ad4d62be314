/**
 * Persistence of every emulated account in the one Durable Object's SQLite storage. Each object
 * is a JSON row keyed by (account_id, kind, id); an account's rows are loaded into memory the
 * first time it is touched and every write goes through to SQLite, so state survives restarts.
 */

import { type Behaviour, DEFAULT_BEHAVIOUR } from "./behaviour";
import type { Clock } from "./clock";
import {
  defaultConnectivitySettings,
  defaultDeviceSettings,
  defaultExcludes,
  defaultProfileSettings,
} from "./defaults";
import { DEFAULT_LIMITS, type ObjectLimits } from "./limits";
import type {
  AccessApp,
  AccessPolicy,
  ConnectivitySettings,
  DeviceProfile,
  DeviceSettings,
  GatewayRule,
  HostnameRouteRecord,
  RouteRecord,
  SubnetRecord,
  TunnelRecord,
  VirtualNetwork,
} from "./types";

/** Object kinds held as collections, keyed by their id. */
export interface Collections {
  vnet: VirtualNetwork;
  tunnel: TunnelRecord;
  route: RouteRecord;
  hostname_route: HostnameRouteRecord;
  rule: GatewayRule;
  profile: DeviceProfile;
  app: AccessApp;
  policy: AccessPolicy;
}

/** Per-account singletons. */
export interface Singletons {
  default_profile: DeviceProfile;
  device_settings: DeviceSettings;
  connectivity_settings: ConnectivitySettings;
  initial_resolved_ip_v4: SubnetRecord;
}

const COLLECTION_KINDS: readonly (keyof Collections)[] = [
  "vnet",
  "tunnel",
  "route",
  "hostname_route",
  "rule",
  "profile",
  "app",
  "policy",
];

/** Row kind (and id) of an account's limit overrides in `objects`. */
const LIMITS_KIND = "limits";
/** Row kind (and id) of an account's answer styles in `objects`. */
const BEHAVIOUR_KIND = "behaviour";

/** Creates the tables; safe to run on every start. */
export function createSchema(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS objects (
    account_id TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (account_id, kind, id))`);
  sql.exec(`CREATE TABLE IF NOT EXISTS calls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT NOT NULL, path TEXT NOT NULL,
    query TEXT NOT NULL, status INTEGER NOT NULL, account_id TEXT)`);
  sql.exec(`CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT, spec TEXT NOT NULL, remaining INTEGER NOT NULL)`);
}

/** One account's objects in memory, with write-through persistence. */
export class AccountState {
  readonly collections: { [K in keyof Collections]: Map<string, Collections[K]> } = {
    vnet: new Map(),
    tunnel: new Map(),
    route: new Map(),
    hostname_route: new Map(),
    rule: new Map(),
    profile: new Map(),
    app: new Map(),
    policy: new Map(),
  };
  private readonly singletons: Partial<Singletons> = {};
  /** Limits raised or lowered through `/__emulator/limits`; the rest are Cloudflare's defaults. */
  private limitOverrides: Partial<ObjectLimits> = {};
  /** Answer styles set through `/__emulator/behaviour`. */
  private behaviourOverrides: Partial<Behaviour> = {};

  constructor(
    /** 32-hex Cloudflare account id. */
    readonly accountId: string,
    private readonly sql: SqlStorage,
  ) {}

  /** Inserts or replaces one object. */
  put<K extends keyof Collections>(kind: K, id: string, value: Collections[K]): void {
    this.collections[kind].set(id, value);
    this.write(kind, id, value);
  }

  /** Removes one object for good (hard delete). */
  remove(kind: keyof Collections, id: string): void {
    this.collections[kind].delete(id);
    this.sql.exec(
      "DELETE FROM objects WHERE account_id = ? AND kind = ? AND id = ?",
      this.accountId,
      kind,
      id,
    );
  }

  get<S extends keyof Singletons>(name: S): Singletons[S] {
    const value = this.singletons[name];
    if (value === undefined) {
      throw new Error(`account ${this.accountId} has no ${name}`);
    }
    return value;
  }

  /** The singleton, or undefined when the account has never had one (lazily made defaults). */
  find<S extends keyof Singletons>(name: S): Singletons[S] | undefined {
    return this.singletons[name];
  }

  set<S extends keyof Singletons>(name: S, value: Singletons[S]): void {
    this.singletons[name] = value;
    this.write("singleton", name, value);
  }

  /** The account's object limits: Cloudflare's defaults with this account's overrides. */
  limits(): ObjectLimits {
    return { ...DEFAULT_LIMITS, ...this.limitOverrides };
  }

  /** Merges limit overrides (null lifts a limit) and stores them. */
  setLimits(overrides: Partial<ObjectLimits>): void {
    this.limitOverrides = { ...this.limitOverrides, ...overrides };
    this.write(LIMITS_KIND, LIMITS_KIND, this.limitOverrides);
  }

  /** The account's answer styles (see behaviour.ts). */
  behaviour(): Behaviour {
    return { ...DEFAULT_BEHAVIOUR, ...this.behaviourOverrides };
  }

  /** Merges answer-style changes and stores them. */
  setBehaviour(change: Partial<Behaviour>): void {
    this.behaviourOverrides = { ...this.behaviourOverrides, ...change };
    this.write(BEHAVIOUR_KIND, BEHAVIOUR_KIND, this.behaviourOverrides);
  }

  /** Fills the in-memory maps from a stored row. */
  load(kind: string, id: string, body: string): void {
    const value: unknown = JSON.parse(body);
    if (kind === LIMITS_KIND) {
      this.limitOverrides = value as Partial<ObjectLimits>;
    } else if (kind === BEHAVIOUR_KIND) {
      this.behaviourOverrides = value as Partial<Behaviour>;
    } else if (kind === "singleton") {
      (this.singletons as Record<string, unknown>)[id] = value;
    } else if ((COLLECTION_KINDS as readonly string[]).includes(kind)) {
      (this.collections[kind as keyof Collections] as Map<string, unknown>).set(id, value);
    }
  }

  /** True once the account's defaults exist. */
  isInitialised(): boolean {
    return this.singletons.default_profile !== undefined;
  }

  private write(kind: string, id: string, value: unknown): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO objects (account_id, kind, id, body) VALUES (?, ?, ?, ?)",
      this.accountId,
      kind,
      id,
      JSON.stringify(value),
    );
  }
}

/** All accounts; loads an account lazily and seeds its defaults on first touch. */
export class Store {
  private readonly accounts = new Map<string, AccountState>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly clock: Clock,
  ) {}

  /**
   * The account's state. On first touch it is given a default virtual network named `default`,
   * the default device profile (Exclude mode, 16 default excludes) and default settings.
   */
  account(accountId: string): AccountState {
    const cached = this.accounts.get(accountId);
    if (cached !== undefined) {
      return cached;
    }
    const state = new AccountState(accountId, this.sql);
    const rows = this.sql.exec<{ kind: string; id: string; body: string }>(
      "SELECT kind, id, body FROM objects WHERE account_id = ?",
      accountId,
    );
    for (const row of rows) {
      state.load(row.kind, row.id, row.body);
    }
    if (!state.isInitialised()) {
      this.seed(state);
    }
    this.accounts.set(accountId, state);
    return state;
  }

  /** The account that holds a tunnel with this id, if any (for test controls). */
  accountOfTunnel(tunnelId: string): string | undefined {
    const rows = this.sql
      .exec<{ account_id: string }>(
        "SELECT account_id FROM objects WHERE kind = 'tunnel' AND id = ?",
        tunnelId,
      )
      .toArray();
    return rows[0]?.account_id;
  }

  /** Forgets every account, or one. */
  reset(accountId?: string): void {
    if (accountId === undefined) {
      this.sql.exec("DELETE FROM objects");
      this.accounts.clear();
    } else {
      this.sql.exec("DELETE FROM objects WHERE account_id = ?", accountId);
      this.accounts.delete(accountId);
    }
  }

  private seed(state: AccountState): void {
    const now = this.clock.next();
    const vnetId = crypto.randomUUID();
    state.put("vnet", vnetId, {
      id: vnetId,
      name: "default",
      comment: "",
      is_default_network: true,
      created_at: now,
      deleted_at: null,
    });
    state.set("default_profile", {
      policy_id: null,
      settings: defaultProfileSettings(),
      mode: "exclude",
      entries: defaultExcludes(),
      name: "Default",
      description: "",
      match: "",
      precedence: 0,
      enabled: true,
      created_at: now,
      updated_at: now,
    });
    state.set("device_settings", defaultDeviceSettings());
    state.set("connectivity_settings", defaultConnectivitySettings());
  }
}

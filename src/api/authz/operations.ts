/**
 * THE authorization table: every operation of the API (by operationId) with the roles that may
 * call it and how it is audited. Enforced for every request by `middleware/authorize.ts`; an
 * operation without a row is refused to everyone, and test/api/identity.test.ts walks the OpenAPI
 * document so a new endpoint cannot ship without a row.
 */
import type { Role } from "../identity/identity";

/**
 * How an operation reaches the audit log:
 * - `none`: a read without a secret; not recorded.
 * - `object`: the repo records before/after in the same batch as the write.
 * - `request`: the audit middleware records the response with every secret redacted (and the
 *   handler's `auditBefore`, if set): writes without a repo entry, and reads of a secret.
 */
export type AuditMode = "none" | "object" | "request";

/** One row: who may call the operation and how it is audited. */
export interface OperationRule {
  roles: readonly Role[];
  audit: AuditMode;
  /** True for writes of desired state: a success raises `desired_state.changed`. */
  changesDesiredState?: boolean;
}

const ADMIN = ["admin"] as const;
const WRITERS = ["admin", "operator"] as const;
const READERS = ["admin", "operator", "viewer"] as const;
const GRANT_READERS = ["admin", "operator", "viewer", "ticketing"] as const;
const GRANT_REQUESTERS = ["admin", "operator", "ticketing"] as const;

const read = { roles: READERS, audit: "none" } as const;
const write = { roles: WRITERS, audit: "object", changesDesiredState: true } as const;
const adminWrite = { roles: ADMIN, audit: "request" } as const;

/** The rows of one desired-state collection: list/get for readers, writes for operators. */
function collection(plural: string, singular: string): Record<string, OperationRule> {
  return {
    [`list${plural}`]: read,
    [`get${singular}`]: read,
    [`create${singular}`]: write,
    [`replace${singular}`]: write,
    [`delete${singular}`]: write,
  };
}

/** operationId -> rule. */
export const OPERATIONS: Readonly<Record<string, OperationRule>> = {
  createAccount: { roles: ADMIN, audit: "object" },
  getAccount: read,
  listAccounts: read,
  updateAccount: { roles: ADMIN, audit: "object" },

  ...collection("VirtualNetworks", "VirtualNetwork"),
  ...collection("Tunnels", "Tunnel"),
  ...collection("TunnelRoutes", "TunnelRoute"),
  ...collection("HostnameRoutes", "HostnameRoute"),
  ...collection("NetworkPolicies", "NetworkPolicy"),
  ...collection("Assertions", "Assertion"),
  ...collection("PrivateApps", "PrivateApp"),
  ...collection("EnrollmentRules", "EnrollmentRule"),
  ...collection("DeviceProfiles", "DeviceProfile"),
  getSplitTunnel: read,
  putSplitTunnel: write,
  getProfileSplitTunnel: read,
  listSplitTunnelEntries: read,
  getSplitTunnelEntry: read,
  getProxySettings: read,
  putProxySettings: write,
  moveNetworkPolicy: write,
  importObject: write,
  getTunnelToken: { roles: WRITERS, audit: "request" },

  analysePolicies: read,
  explainAccess: read,
  whoCanReach: read,
  reachableBy: read,
  runAssertions: read,
  listConflicts: read,
  checkClientLan: read,

  getDesiredState: read,
  diffDesiredState: { roles: WRITERS, audit: "none" },
  applyDesiredState: write,

  planAccount: { roles: WRITERS, audit: "request" },
  reconcileAccount: { roles: WRITERS, audit: "request" },
  listRuns: read,
  getRun: read,
  listDeadLetters: { roles: ADMIN, audit: "none" },
  redriveDeadLetter: { roles: ADMIN, audit: "request" },

  createGrant: { roles: GRANT_REQUESTERS, audit: "request" },
  listGrants: { roles: GRANT_READERS, audit: "none" },
  getGrant: { roles: GRANT_READERS, audit: "none" },
  listGrantEvents: { roles: GRANT_READERS, audit: "none" },
  approveGrant: { roles: WRITERS, audit: "request" },
  rejectGrant: { roles: WRITERS, audit: "request" },
  revokeGrant: { roles: WRITERS, audit: "request" },
  cancelGrant: { roles: GRANT_REQUESTERS, audit: "request" },
  getGrantSettings: read,
  putGrantSettings: { roles: ADMIN, audit: "request" },
  listCallbackReceivers: read,
  putCallbackReceiver: { roles: ADMIN, audit: "request" },
  deleteCallbackReceiver: { roles: ADMIN, audit: "request" },
  listEventSubscriptions: read,
  getEventSubscription: read,
  listEventDeliveries: read,
  createEventSubscription: adminWrite,
  updateEventSubscription: adminWrite,
  deleteEventSubscription: adminWrite,
  listGrantApprovalRules: read,
  getGrantApprovalRule: read,
  createGrantApprovalRule: { roles: ADMIN, audit: "request" },
  replaceGrantApprovalRule: { roles: ADMIN, audit: "request" },
  deleteGrantApprovalRule: { roles: ADMIN, audit: "request" },

  listAuditLog: read,
  verifyAuditLog: read,
  listGlobalAuditLog: { roles: ADMIN, audit: "none" },
  verifyGlobalAuditLog: { roles: ADMIN, audit: "none" },

  createApiKey: { roles: ADMIN, audit: "request" },
  listApiKeys: { roles: ADMIN, audit: "none" },
  getApiKey: { roles: ADMIN, audit: "none" },
  revokeApiKey: { roles: ADMIN, audit: "request" },
  createAccessRoleBinding: { roles: ADMIN, audit: "request" },
  listAccessRoleBindings: { roles: ADMIN, audit: "none" },
  deleteAccessRoleBinding: { roles: ADMIN, audit: "request" },
  whoAmI: { roles: GRANT_READERS, audit: "none" },
};

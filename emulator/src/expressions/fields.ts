/**
 * The fields a Gateway network (`l4`) rule may use, by expression slot, with their value type.
 * Sources: the selector tables of Cloudflare's "Network policies" and "Identity-based policies"
 * pages (cloudflare-docs `partials/cloudflare-one/gateway/selectors/*.mdx`) and the examples of
 * the OpenAPI schemas `zero-trust-gateway_traffic`, `_identity`, `_device_posture`.
 */

/** Value type of a field: `bool` fields stand alone (`access.private_app`). */
export type FieldType = "ip" | "int" | "string" | "bool";

/** The three expression slots of a Gateway rule. */
export type ExpressionSlot = "traffic" | "identity" | "device_posture";

/** How one field is written. */
export interface FieldSpec {
  /** Type of each value. */
  type: FieldType;
  /** An array field is written `any(field[*] …)` or `all(field[*] …)`. */
  array: boolean;
}

/** Fields of `l4` rules, by the slot they belong to. */
export const L4_FIELDS: Readonly<Record<ExpressionSlot, Readonly<Record<string, FieldSpec>>>> = {
  traffic: {
    "net.dst.ip": { type: "ip", array: false },
    "net.src.ip": { type: "ip", array: false },
    "net.dst.port": { type: "int", array: false },
    "net.src.port": { type: "int", array: false },
    "net.protocol": { type: "string", array: false },
    "net.vnet_id": { type: "string", array: false },
    "net.sni.host": { type: "string", array: false },
    "net.sni.domains": { type: "string", array: true },
    "net.dst.geo.country": { type: "string", array: false },
    "net.src.geo.country": { type: "string", array: false },
    "net.detected_protocol": { type: "string", array: false },
    "app.ids": { type: "int", array: true },
    "app.type.ids": { type: "int", array: true },
    "access.private_app": { type: "bool", array: false },
  },
  identity: {
    "identity.email": { type: "string", array: false },
    "identity.name": { type: "string", array: false },
    "identity.groups.name": { type: "string", array: true },
    "identity.groups.id": { type: "string", array: true },
    "identity.groups.email": { type: "string", array: true },
    "identity.saml_attributes": { type: "string", array: false },
  },
  device_posture: {
    "device_posture.checks.passed": { type: "string", array: true },
    "device_posture.checks.failed": { type: "string", array: true },
  },
};

/** The slot a field belongs to, when it belongs to any. */
export function slotOf(field: string): ExpressionSlot | undefined {
  for (const slot of Object.keys(L4_FIELDS) as ExpressionSlot[]) {
    if (Object.hasOwn(L4_FIELDS[slot], field)) {
      return slot;
    }
  }
  return undefined;
}

/**
 * Secrets at rest (account API tokens, callback secrets): AES-256-GCM under a versioned key ring.
 * A sealed value is `<version>:<base64url(iv || ciphertext || tag)>`; its associated data names
 * the account and the purpose, so a value copied to another account or column does not open.
 * The first listed (newest) key seals; every listed key opens. Values from before key versions (no prefix, no
 * associated data) still open and count as stale, so the background re-seal upgrades them.
 */
import { fromBase64, toBase64Url } from "./base64";

const IV_BYTES = 12;
const KEY_BYTES = 32;
const VERSION_PATTERN = /^v(\d{1,6})$/;
const SEALED_PATTERN = /^(v\d{1,6}):([A-Za-z0-9_-]+)$/;

/** What a sealed value is for; part of its associated data. */
export type SealPurpose = "api-token" | "callback-secret";

/** Whose secret and what for: bound into the AES-GCM associated data. */
export interface SealContext {
  /** The Cloudflare account id the secret belongs to. */
  accountId: string;
  purpose: SealPurpose;
  /** A narrower owner inside the account (a callback receiver's ticket system), if any. */
  scope?: string;
}

/** Parsed keys in the order listed; the first seals. */
export interface KeyRing {
  /** The version that seals new values, e.g. `v2`. */
  newest: string;
  /** Every version with its AES key, the sealing one first. */
  keys: { version: string; key: CryptoKey }[];
}

/** A misconfigured key ring (a deploy mistake, not user input); the message never holds a key. */
export class KeyRingError extends Error {
  override name = "KeyRingError";
}

const rings = new Map<string, Promise<KeyRing>>();

/**
 * Reads the key ring from `TOKEN_ENCRYPTION_KEYS` (`v2:<base64>,v1:<base64>`: 32-byte keys, the
 * first listed seals, so listing an older version first rolls back) or, when that is unset or
 * empty, from the single
 * `TOKEN_ENCRYPTION_KEY` (base64), which is version `v1`. Remembered per isolate.
 * @throws KeyRingError when neither is set, a key is not 32 bytes of base64, or a version
 *   (`v<digits>`) is malformed or repeated.
 */
export function loadKeyRing(env: {
  TOKEN_ENCRYPTION_KEYS?: string;
  TOKEN_ENCRYPTION_KEY?: string;
}): Promise<KeyRing> {
  const spec =
    env.TOKEN_ENCRYPTION_KEYS?.trim() ||
    (env.TOKEN_ENCRYPTION_KEY ? `v1:${env.TOKEN_ENCRYPTION_KEY.trim()}` : "");
  let ring = rings.get(spec);
  if (ring === undefined) {
    ring = buildRing(spec);
    // A failed parse is not remembered: the next request reports it again.
    ring.catch(() => rings.delete(spec));
    rings.set(spec, ring);
  }
  return ring;
}

async function buildRing(spec: string): Promise<KeyRing> {
  if (spec === "") {
    throw new KeyRingError("set TOKEN_ENCRYPTION_KEYS (or TOKEN_ENCRYPTION_KEY)");
  }
  const entries = spec.split(",").map((entry, index) => {
    const colon = entry.indexOf(":");
    const version = entry.slice(0, colon).trim();
    if (colon < 0 || !VERSION_PATTERN.test(version)) {
      throw new KeyRingError(`key ${index + 1}: write it as v<number>:<base64 key>`);
    }
    let raw: Uint8Array;
    try {
      raw = fromBase64(entry.slice(colon + 1).trim());
    } catch {
      throw new KeyRingError(`key ${version}: not base64`);
    }
    if (raw.length !== KEY_BYTES) {
      throw new KeyRingError(`key ${version}: must be ${KEY_BYTES} bytes, base64-encoded`);
    }
    return { version, number: Number(version.slice(1)), raw };
  });
  if (new Set(entries.map((e) => e.number)).size !== entries.length) {
    throw new KeyRingError("a key version is listed twice");
  }
  const keys = await Promise.all(
    entries.map(async (e) => ({
      version: e.version,
      key: await crypto.subtle.importKey("raw", e.raw, "AES-GCM", false, ["encrypt", "decrypt"]),
    })),
  );
  const newest = keys[0]?.version ?? "";
  return { newest, keys };
}

function associatedData(context: SealContext): Uint8Array {
  const scope = context.scope === undefined ? "" : `/${context.scope}`;
  return new TextEncoder().encode(`tunnelplane/${context.purpose}/${context.accountId}${scope}`);
}

/** Seals `plaintext` under the newest key, bound to `context`; a fresh 96-bit IV each time. */
export async function sealSecret(
  ring: KeyRing,
  plaintext: string,
  context: SealContext,
): Promise<string> {
  const newest = ring.keys[0];
  if (newest === undefined) {
    throw new KeyRingError("the key ring is empty");
  }
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: associatedData(context) },
    newest.key,
    new TextEncoder().encode(plaintext),
  );
  const out = new Uint8Array(IV_BYTES + sealed.byteLength);
  out.set(iv);
  out.set(new Uint8Array(sealed), IV_BYTES);
  return `${newest.version}:${toBase64Url(out)}`;
}

async function decrypt(key: CryptoKey, bytes: Uint8Array, additionalData?: Uint8Array) {
  const plain = await crypto.subtle.decrypt(
    {
      name: "AES-GCM",
      iv: bytes.slice(0, IV_BYTES),
      ...(additionalData ? { additionalData } : {}),
    },
    key,
    bytes.slice(IV_BYTES),
  );
  return new TextDecoder().decode(plain);
}

/**
 * Opens a value made by `sealSecret` for the same `context`, or an unversioned value from
 * before key versions (tried under every key in turn).
 * @throws KeyRingError when its key version is not in the ring, no key opens it, or it was
 *   sealed for another account or purpose (AES-GCM authentication fails).
 */
export async function openSecret(
  ring: KeyRing,
  sealed: string,
  context: SealContext,
): Promise<string> {
  const match = SEALED_PATTERN.exec(sealed);
  if (match === null) {
    const bytes = fromBase64(sealed);
    for (const { key } of ring.keys) {
      try {
        return await decrypt(key, bytes);
      } catch {
        // Not this key: an unversioned value names none, so each is tried in turn.
      }
    }
    throw new KeyRingError(`no key opens a ${context.purpose} of account ${context.accountId}`);
  }
  const [, version, body] = match;
  const entry = ring.keys.find((k) => k.version === version);
  if (entry === undefined || body === undefined) {
    throw new KeyRingError(`key ${version} is not in the key ring`);
  }
  try {
    return await decrypt(entry.key, fromBase64(body), associatedData(context));
  } catch {
    throw new KeyRingError(
      `a ${context.purpose} of account ${context.accountId} does not open under key ${version}`,
    );
  }
}

/** Whether `sealed` was made by the ring's newest key (else the re-seal upgrades it). */
export function isSealedWithNewest(ring: KeyRing, sealed: string): boolean {
  return sealed.startsWith(`${ring.newest}:`);
}

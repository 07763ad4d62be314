/**
 * Cloudflare Access login: the `Cf-Access-Jwt-Assertion` header is a JWT signed by the team's
 * keys; its signature (against the team's JWKS), issuer, audience and expiry are checked with
 * `jose`. The key set is cached per team and fetched again when a token names an unknown key.
 * @see https://developers.cloudflare.com/cloudflare-one/identity/authorization-cookie/validating-json/
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify } from "jose";

/** How long a fetched key set is used before it is fetched again, ms. */
const JWKS_TTL_MS = 300_000;
/** Shortest gap between two fetches forced by an unknown key id, ms (no fetch per bad token). */
const JWKS_REFETCH_GAP_MS = 30_000;

interface CachedKeys {
  keys: ReturnType<typeof createLocalJWKSet>;
  fetchedAtMs: number;
}

const cache = new Map<string, CachedKeys>();

/** Where the keys come from and what the token must say. */
export interface AccessSettings {
  /** `<team>.cloudflareaccess.com`, without scheme. */
  teamDomain: string;
  /** The Access application's AUD tag. */
  audience: string;
  /** Fetches `https://<team>/cdn-cgi/access/certs`. */
  fetchCerts: (url: string) => Promise<Response>;
  nowMs: number;
}

async function loadKeys(settings: AccessSettings): Promise<CachedKeys> {
  const response = await settings.fetchCerts(`https://${settings.teamDomain}/cdn-cgi/access/certs`);
  if (!response.ok) {
    throw new Error(`Access certs answered ${response.status}`);
  }
  const body = (await response.json()) as JSONWebKeySet;
  const loaded = { keys: createLocalJWKSet({ keys: body.keys }), fetchedAtMs: settings.nowMs };
  cache.set(settings.teamDomain, loaded);
  return loaded;
}

async function keysFor(settings: AccessSettings): Promise<CachedKeys> {
  const cached = cache.get(settings.teamDomain);
  if (cached !== undefined && settings.nowMs - cached.fetchedAtMs < JWKS_TTL_MS) {
    return cached;
  }
  return loadKeys(settings);
}

/**
 * The email of a valid Access token, or null when the token is not valid (bad signature, other
 * audience or issuer, expired, no email claim: a service token has none).
 * @throws Error when the key set cannot be fetched (the caller answers 5xx, not 401).
 */
export async function verifyAccessJwt(
  token: string,
  settings: AccessSettings,
): Promise<string | null> {
  const verify = (keys: CachedKeys) =>
    jwtVerify(token, keys.keys, {
      issuer: `https://${settings.teamDomain}`,
      audience: settings.audience,
      currentDate: new Date(settings.nowMs),
    });
  let cached = await keysFor(settings);
  try {
    let result: Awaited<ReturnType<typeof verify>>;
    try {
      result = await verify(cached);
    } catch (error) {
      if (
        !(error instanceof errors.JWKSNoMatchingKey) ||
        settings.nowMs - cached.fetchedAtMs < JWKS_REFETCH_GAP_MS
      ) {
        throw error;
      }
      // Access rotates its signing keys: a token may name a key published after our fetch.
      cached = await loadKeys(settings);
      result = await verify(cached);
    }
    const email = result.payload.email;
    return typeof email === "string" && email.includes("@") ? email.toLowerCase() : null;
  } catch (error) {
    if (error instanceof errors.JOSEError) {
      return null;
    }
    throw error;
  }
}

/**
 * Where grant callbacks may go: an `https` URL to a public host, so that a ticketing system
 * cannot point tunnelplane at loopback, link-local metadata, private or CGNAT space (server-side
 * request forgery). Address literals are classified by ipaddr.js's special-purpose tables
 * (RFC 6890 and successors); the WHATWG URL parser has already turned shorthand IPv4 forms such
 * as `2130706433`, `127.1` and `0x7f.1` into dotted quads. A public name that resolves to a
 * private address is outside what a URL check can see; Workers' fetch reaches public addresses.
 */
import ipaddr from "ipaddr.js";
import { err, ok, type Result } from "../result";

/** The port an `https` URL uses when it names none. */
export const HTTPS_PORT = 443;

/**
 * Name suffixes that never denote a public host: RFC 6761 (`localhost`, `invalid`, `test`),
 * RFC 6762 (`local`), RFC 7686 (`onion`), RFC 8375 (`home.arpa`), ICANN's `internal`, RFC 9476
 * (`alt`), and reverse-lookup names under `arpa`.
 */
const NON_PUBLIC_SUFFIXES = [
  "localhost",
  "invalid",
  "test",
  "local",
  "onion",
  "internal",
  "alt",
  "arpa",
];

/** Why a callback URL is refused. */
export type CallbackUrlError =
  | { code: "callback-url-invalid" }
  | { code: "callback-url-not-https"; scheme: string }
  | { code: "callback-url-credentials" }
  | { code: "callback-url-address-not-public"; address: string; range: string }
  | { code: "callback-url-host-not-public"; host: string }
  | { code: "callback-url-port"; port: number };

/** A callback URL that passed: its normalized text and the port it uses. */
export interface CallbackTarget {
  /** The URL as the WHATWG parser serializes it. */
  url: string;
  /** The port the request goes to (443 unless the URL names another). */
  port: number;
}

/** IPv6 global unicast space: every public IPv6 address is inside it. */
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR("2000::/3");

function addressRange(host: string): { address: string; range: string } | undefined {
  if (host.startsWith("[") && host.endsWith("]")) {
    const v6 = ipaddr.IPv6.parse(host.slice(1, -1));
    if (v6.isIPv4MappedAddress()) {
      const v4 = v6.toIPv4Address();
      return { address: v4.toString(), range: v4.range() };
    }
    const range = v6.range();
    // ipaddr.js calls every address outside its tables `unicast`, the IPv4-compatible `::/96`
    // (`[::127.0.0.1]`) included; only 2000::/3 is global unicast (RFC 4291 section 2.4).
    return {
      address: v6.toString(),
      range: range === "unicast" && !v6.match(GLOBAL_UNICAST_V6) ? "reserved" : range,
    };
  }
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) {
    return { address: host, range: ipaddr.IPv4.parse(host).range() };
  }
  return undefined;
}

/**
 * Checks a callback URL: scheme `https`, no user name or password, a host that is a public
 * unicast address (IPv4 or IPv6, IPv4-mapped IPv6 judged as IPv4) or a name with at least two
 * labels outside NON_PUBLIC_SUFFIXES, and port 443 or one of `allowedPorts`.
 * @param allowedPorts ports other than 443 the account allows (empty: 443 only), or `any` to
 *   leave the port to a later check that knows the account.
 * @returns the target, or the first rule it breaks.
 */
export function checkCallbackUrl(
  text: string,
  allowedPorts: readonly number[] | "any",
): Result<CallbackTarget, CallbackUrlError> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return err({ code: "callback-url-invalid" });
  }
  if (url.protocol !== "https:") {
    return err({ code: "callback-url-not-https", scheme: url.protocol.replace(/:$/, "") });
  }
  if (url.username !== "" || url.password !== "") {
    return err({ code: "callback-url-credentials" });
  }
  const literal = addressRange(url.hostname);
  if (literal !== undefined && literal.range !== "unicast") {
    return err({ code: "callback-url-address-not-public", ...literal });
  }
  if (literal === undefined) {
    const name = url.hostname.replace(/\.$/, "");
    const labels = name.split(".");
    const last = labels[labels.length - 1] ?? "";
    if (labels.length < 2 || NON_PUBLIC_SUFFIXES.includes(last)) {
      return err({ code: "callback-url-host-not-public", host: url.hostname });
    }
  }
  const port = url.port === "" ? HTTPS_PORT : Number(url.port);
  if (port !== HTTPS_PORT && allowedPorts !== "any" && !allowedPorts.includes(port)) {
    return err({ code: "callback-url-port", port });
  }
  return ok({ url: url.toString(), port });
}

/** A sentence for each refusal, safe to show to the caller. */
export function describeCallbackUrlError(error: CallbackUrlError): string {
  switch (error.code) {
    case "callback-url-invalid":
      return "not a URL";
    case "callback-url-not-https":
      return `callbacks go over https only, not ${error.scheme}`;
    case "callback-url-credentials":
      return "a callback URL carries no user name or password";
    case "callback-url-address-not-public":
      return `${error.address} is in ${error.range} address space, not a public address`;
    case "callback-url-host-not-public":
      return `${error.host} is not a public host name`;
    case "callback-url-port":
      return `port ${error.port} is not allowed for this account (443, or a port listed in grant-settings callback_allowed_ports)`;
  }
}

/** The seed scenario described over REST, for tests that build on it. */
import { type ApiResponse, post, put } from "./api";
import type { Created } from "./wire";

/** Ids of the seed scenario's objects. */
export interface SeedIds {
  tunnel: Created;
  wide: Created;
  narrow: Created;
  allow: Created;
  block: Created;
}

function created(response: ApiResponse<Created>, what: string): Created {
  if (response.status !== 201) {
    throw new Error(
      `creating ${what} answered ${response.status}: ${JSON.stringify(response.body)}`,
    );
  }
  return response.body;
}

/**
 * Tunnel dc1 serving 10.0.0.0/8 and 172.31.0.0/16, the default profile in Exclude mode with
 * `auto`, every proxy on, and two policies on 10.128.0.7: allow `.*@example.com` at 1000, block
 * everyone at 2000.
 */
export async function describeSeedScenario(base: string): Promise<SeedIds> {
  const tunnel = created(await post<Created>(`${base}/tunnels`, { name: "dc1" }), "the tunnel");
  const wide = created(
    await post<Created>(`${base}/routes`, { network: "10.0.0.0/8", tunnel_id: tunnel.id }),
    "10.0.0.0/8",
  );
  const narrow = created(
    await post<Created>(`${base}/routes`, { network: "172.31.0.0/16", tunnel_id: tunnel.id }),
    "172.31.0.0/16",
  );
  await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true });
  await put(`${base}/proxy-settings`, { tcp: true, udp: true, icmp: true });
  const allow = created(
    await post<Created>(`${base}/policies`, {
      name: "Allow example.com to db",
      action: "allow",
      precedence: 1000,
      destinations: ["10.128.0.7"],
      email_regex: ".*@example.com",
    }),
    "the allow policy",
  );
  const block = created(
    await post<Created>(`${base}/policies`, {
      name: "Block db for everyone else",
      action: "block",
      precedence: 2000,
      destinations: ["10.128.0.7"],
    }),
    "the block policy",
  );
  return { tunnel, wide, narrow, allow, block };
}

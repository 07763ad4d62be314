/**
 * Demo data for `npm start`: the seed scenario in a demo account (a tunnel, routes 10.0.0.0/8 and
 * 172.31.0.0/16, the default profile in Exclude mode with auto, TCP/UDP/ICMP proxy on, an allow
 * and a block policy for 10.128.0.7). Idempotent: an existing demo account is left as it is.
 */

export const DEMO_ACCOUNT_ID = "0123456789abcdef0123456789abcdef";

/** Seeds the demo account through the API at `api`; returns its id and what was done. */
export async function seedDemo(api, adminKey) {
  const call = async (method, path, body) => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text === "" ? null : JSON.parse(text);
    if (response.status >= 400 && response.status !== 404) {
      throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    }
    return { status: response.status, body: parsed };
  };
  const base = `/v1/accounts/${DEMO_ACCOUNT_ID}`;
  if ((await call("GET", base)).status === 200) {
    return { accountId: DEMO_ACCOUNT_ID, note: "already seeded" };
  }
  await call("POST", "/v1/accounts", {
    account_id: DEMO_ACCOUNT_ID,
    name: "Demo",
    api_token: "demo-token-for-the-local-emulator-0123456789",
    mode: "enforce",
    reconcile_interval_s: 60,
  });
  const tunnel = (await call("POST", `${base}/tunnels`, { name: "dc1" })).body;
  await call("POST", `${base}/routes`, {
    network: "10.0.0.0/8",
    tunnel_id: tunnel.id,
    comment: "data centre",
  });
  await call("POST", `${base}/routes`, {
    network: "172.31.0.0/16",
    tunnel_id: tunnel.id,
    comment: "lab",
  });
  await call("PUT", `${base}/split-tunnels/default`, { mode: "exclude", auto: true });
  await call("PUT", `${base}/proxy-settings`, { tcp: true, udp: true, icmp: true });
  await call("POST", `${base}/policies`, {
    name: "Allow example.com to db-prod",
    action: "allow",
    precedence: 1000,
    destinations: ["10.128.0.7"],
    email_regex: ".*@example.com",
  });
  await call("POST", `${base}/policies`, {
    name: "Block db-prod for everyone else",
    action: "block",
    precedence: 2000,
    destinations: ["10.128.0.7"],
  });
  return { accountId: DEMO_ACCOUNT_ID, note: "seeded; the first cron tick reconciles it" };
}

/**
 * Secrets and callbacks: callback URLs that could reach inside are refused, redirects are not
 * followed, deliveries leave the API request, callback secrets rotate with an overlap, API tokens
 * are checked before they are sealed, and a key rotation re-seals every secret in the background.
 * Event subscriptions get drift, grant and desired-state events through the queue, signed like
 * callbacks, retried and marked failed. The last test greps D1, every response of this file and the Worker log for any secret.
 */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, type ExpectStatic, it, vi } from "vitest";
import { createDb } from "../../src/db/client";
import worker from "../../src/index";
import { loadKeyRing, openSecret } from "../../src/lib/key-ring";
import type { ReconcileMessage } from "../../src/reconciler/continue";
import { createReconcileDeps } from "../../src/reconciler/deps";
import { type EventDeliveryMessage, emitEvents } from "../../src/reconciler/events/emit";
import { OVERDUE_DELIVERY_GRACE_MS } from "../../src/reconciler/events/sweep";
import { reconcileAccount } from "../../src/reconciler/reconcile-account";
import { runScheduledTick } from "../../src/reconciler/schedule";
import { type ApiResponse, call } from "../helpers/api";
import { newAccountId, sdk } from "../helpers/emulator";
import {
  alarmOf,
  CALLBACK_SECRET,
  eventually,
  failNext,
  fireAlarmAt,
  holdAll,
  newHook,
  receivedOn,
  redirectAll,
  signedUnder,
  startedOn,
} from "../helpers/grants";
import { mintKey } from "../helpers/keys";

const SEED_TOKEN = "test-cloudflare-api-token-0123456789abcdef";
const SECRET_B = "second-callback-secret-abcdefghijklmnopqrstuvwxyz";
const SECRET_C = "third-callback-secret-ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const EVENT_SECRET = "event-subscription-secret-0123456789abcdefghij";
const REFUSED_TOKENS = [
  "cfut_has a space in the middle 0123456789abcdefghij",
  "cfut_ünïcödé_0123456789abcdefghij0123456789abcdefghij",
  "cfut_short_9",
];
/** Every secret this file hands to tunnelplane; none may appear in plain text anywhere. */
const SECRETS = [SEED_TOKEN, CALLBACK_SECRET, SECRET_B, SECRET_C, EVENT_SECRET, ...REFUSED_TOKENS];
/** A second AES-256 key for the rotation (base64). */
const NEW_KEY = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

const responses: string[] = [];
const logged: string[] = [];
/** The test output, for measurements; console itself is captured as the Worker log. */
const print = console.log.bind(console);

interface Delivery {
  event: string;
  status: string;
  attempts: { status_code: number | null; error: string | null }[];
  next_attempt_at: string | null;
}
interface GrantBody {
  id: string;
  state: string;
  deliveries: Delivery[];
}

/** `call` (with the admin key unless `key` is given), keeping the response for the final grep. */
async function send<T>(
  method: string,
  path: string,
  body?: unknown,
  key?: string,
): Promise<ApiResponse<T>> {
  const response = await call<T>(method, path, {
    ...(body === undefined ? {} : { body }),
    ...(key === undefined ? {} : { key }),
  });
  responses.push(JSON.stringify([...response.headers.entries()]), JSON.stringify(response.body));
  return response;
}

async function newAccount(expect: ExpectStatic) {
  const accountId = newAccountId();
  const created = await send("POST", "/v1/accounts", {
    account_id: accountId,
    name: `secrets ${accountId.slice(0, 6)}`,
    api_token: SEED_TOKEN,
  });
  expect(created.status).toBe(201);
  const base = `/v1/accounts/${accountId}`;
  expect(
    (await send("PUT", `${base}/grant-settings`, { callback_secret: CALLBACK_SECRET })).status,
  ).toBe(200);
  return { accountId, base };
}

/** A grant an hour from now: approving it records a transition and nothing else. */
const laterGrant = (
  callbackUrl: string | null,
  ticketUrl: string | null = null,
  system = "servicenow",
) => ({
  ticket: { system, id: "CHG42", url: ticketUrl },
  subject_email: "contractor@example.com",
  destinations: ["10.128.0.7"],
  reason: "Patch the db host",
  starts_at: new Date(Date.now() + 3_600_000).toISOString(),
  duration_s: 3600,
  callback_url: callbackUrl,
});

const deliveriesOf = async (base: string, id: string) =>
  (await send<GrantBody>("GET", `${base}/grants/${id}`)).body.deliveries.map((d) => [
    d.event,
    d.status,
    d.attempts.map((a) => [a.status_code, a.error]),
  ]);

beforeAll(() => {
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    });
  }
});

afterAll(() => {
  vi.restoreAllMocks();
});

describe("callback URLs", () => {
  it("refuses every URL that could reach inside, naming the rule, and allows a listed port", async ({
    expect,
  }) => {
    const { base } = await newAccount(expect);
    const table: [reason: string, url: string, code: string][] = [
      ["loopback", "https://127.0.0.1/hook", "callback-url-address-not-public"],
      ["localhost", "https://localhost/hook", "callback-url-host-not-public"],
      ["a .localhost name", "https://api.localhost/hook", "callback-url-host-not-public"],
      ["short IPv4", "https://127.1/hook", "callback-url-address-not-public"],
      ["decimal IPv4", "https://2130706433/hook", "callback-url-address-not-public"],
      ["hex IPv4", "https://0x7f.1/hook", "callback-url-address-not-public"],
      ["octal IPv4", "https://017700000001/hook", "callback-url-address-not-public"],
      ["IPv6 loopback", "https://[::1]/hook", "callback-url-address-not-public"],
      ["IPv4-mapped IPv6", "https://[::ffff:127.0.0.1]/hook", "callback-url-address-not-public"],
      ["IPv4-compatible IPv6", "https://[::127.0.0.1]/hook", "callback-url-address-not-public"],
      ["IPv6 outside global unicast", "https://[4000::1]/hook", "callback-url-address-not-public"],
      ["metadata", "https://169.254.169.254/latest", "callback-url-address-not-public"],
      ["RFC 1918", "https://10.0.0.1/hook", "callback-url-address-not-public"],
      ["CGNAT", "https://100.64.0.1/hook", "callback-url-address-not-public"],
      ["unique local IPv6", "https://[fd00::1]/hook", "callback-url-address-not-public"],
      ["single label", "https://hooks/hook", "callback-url-host-not-public"],
      ["plain http", "http://hooks.example.com/hook", "callback-url-not-https"],
      ["credentials", "https://user:pass@hooks.example.com/hook", "callback-url-credentials"],
      ["port 8443", "https://hooks.example.com:8443/hook", "callback-url-port"],
    ];
    const results = [];
    for (const [reason, url] of table) {
      const response = await send<{ errors: { pointer: string; code: string }[] }>(
        "POST",
        `${base}/grants`,
        laterGrant(url),
      );
      results.push([reason, response.status, response.body.errors]);
    }
    expect(results).toEqual(
      table.map(([reason, , code]) => [
        reason,
        422,
        [expect.objectContaining({ pointer: "#/callback_url", code })],
      ]),
    );
    const http = await send<{ errors: { pointer: string }[] }>(
      "POST",
      `${base}/grants`,
      laterGrant(null, "http://tickets.example.com/CHG42"),
    );
    expect([http.status, http.body.errors.map((e) => e.pointer)]).toEqual([422, ["#/ticket/url"]]);

    const ports = await send("PUT", `${base}/grant-settings`, { callback_allowed_ports: [8443] });
    expect(ports.body).toMatchObject({ callback_secret_set: true, callback_allowed_ports: [8443] });
    const listed = await send(
      "POST",
      `${base}/grants`,
      laterGrant("https://hooks.example.com:8443/hook"),
    );
    expect(listed.status).toBe(201);

    const bare = newAccountId();
    const other = await send("POST", "/v1/accounts", {
      account_id: bare,
      name: "no secret",
      api_token: SEED_TOKEN,
    });
    expect(other.status).toBe(201);
    const portsFirst = await send<{ errors: unknown[] }>(
      "PUT",
      `/v1/accounts/${bare}/grant-settings`,
      {
        callback_allowed_ports: [8443],
      },
    );
    expect([portsFirst.status, portsFirst.body.errors]).toEqual([
      422,
      [
        {
          pointer: "#/callback_secret",
          detail: "required the first time",
          code: "callback-secret-missing",
        },
      ],
    ]);
  });

  it("a grant's callback URL is whole for admins and its ticket system; operators, viewers and the audit log see scheme and host", async ({
    expect,
  }) => {
    const { accountId, base } = await newAccount(expect);
    const hook = newHook();
    const ticketing = await mintKey(expect, "ticketing", [accountId], "servicenow");
    const operator = await mintKey(expect, "operator", [accountId]);
    const viewer = await mintKey(expect, "viewer", [accountId]);
    const created = await send<{ id: string; callback_url: string }>(
      "POST",
      `${base}/grants`,
      laterGrant(hook.url),
      ticketing.secret,
    );
    const id = created.body.id;
    const approved = await send<{ state: string; callback_url: string }>(
      "POST",
      `${base}/grants/${id}/approve`,
      {},
      operator.secret,
    );
    expect([created.status, created.body.callback_url, approved.status, approved.body]).toEqual([
      201,
      hook.url,
      200,
      expect.objectContaining({ state: "approved", callback_url: "https://hooks.example.com/…" }),
    ]);
    const seen = [];
    for (const key of [viewer.secret, operator.secret, ticketing.secret, undefined]) {
      const one = await send<{ callback_url: string }>(
        "GET",
        `${base}/grants/${id}`,
        undefined,
        key,
      );
      const listed = await send<{ items: { callback_url: string }[] }>(
        "GET",
        `${base}/grants`,
        undefined,
        key,
      );
      seen.push([one.body.callback_url, listed.body.items.map((g) => g.callback_url)]);
    }
    expect(seen).toEqual([
      ["https://hooks.example.com/…", ["https://hooks.example.com/…"]],
      ["https://hooks.example.com/…", ["https://hooks.example.com/…"]],
      [hook.url, [hook.url]],
      [hook.url, [hook.url]],
    ]);
    const log = await send<{ items: { action: string; after: { callback_url: string } }[] }>(
      "GET",
      `${base}/audit-log?object_id=${id}`,
      undefined,
      viewer.secret,
    );
    expect(log.body.items.map((e) => [e.action, e.after.callback_url]).sort()).toEqual([
      ["approveGrant", "https://hooks.example.com/…"],
      ["createGrant", "https://hooks.example.com/…"],
    ]);
  });

  it("a 307 is a failed attempt that is not followed; the record keeps the status, not the body", async ({
    expect,
  }) => {
    const { base } = await newAccount(expect);
    const hook = newHook();
    await redirectAll(hook.name);
    const grant = (await send<GrantBody>("POST", `${base}/grants`, laterGrant(hook.url))).body;
    expect(grant.deliveries.map((d) => [d.event, d.status, d.attempts])).toEqual([
      ["requested", "pending", []],
    ]);
    expect(
      await eventually(
        () => deliveriesOf(base, grant.id),
        (d) => JSON.stringify(d).includes("307"),
      ),
    ).toEqual([["requested", "pending", [[307, "redirects are not followed"]]]]);
    expect(await startedOn(hook.name)).toBe(1);
    expect(await receivedOn("elsewhere")).toEqual([]);
    expect(responses.some((r) => r.includes("secret receiver body"))).toBe(false);
  });

  it("approve answers without waiting for a receiver that never answers; the alarm sends it and retries", async ({
    expect,
  }) => {
    const { accountId, base } = await newAccount(expect);
    const hook = newHook();
    await holdAll(hook.name, 2_000);
    const grant = (await send<GrantBody>("POST", `${base}/grants`, laterGrant(hook.url))).body;
    const timedOut = [null, "no response within 250 ms"];
    await eventually(
      () => deliveriesOf(base, grant.id),
      (d) => JSON.stringify(d).includes("no response"),
    );

    // The requester (the admin key) may not approve its own grant: an operator approves.
    const approver = (await mintKey(expect, "operator", [accountId])).secret;
    const startedAtMs = Date.now();
    const approved = await send<GrantBody>(
      "POST",
      `${base}/grants/${grant.id}/approve`,
      {},
      approver,
    );
    const neverAnswersMs = Date.now() - startedAtMs;
    // The same approval without a callback: what the request costs whatever the receiver does.
    const plain = (await send<GrantBody>("POST", `${base}/grants`, laterGrant(null))).body;
    const plainStartedAtMs = Date.now();
    await send("POST", `${base}/grants/${plain.id}/approve`, {}, approver);
    print(
      `approve: ${neverAnswersMs} ms with a receiver that never answers, ${Date.now() - plainStartedAtMs} ms without a callback`,
    );
    expect(approved.status).toBe(200);
    expect(approved.body.deliveries.map((d) => [d.event, d.status, d.attempts])).toEqual([
      [
        "requested",
        "pending",
        [expect.objectContaining({ status_code: null, error: timedOut[1] })],
      ],
      ["approved", "pending", []],
    ]);

    const waiting = await eventually(
      () => send<GrantBody>("GET", `${base}/grants/${grant.id}`),
      (r) => r.body.deliveries.every((d) => d.attempts.length === 1),
    );
    const retries = waiting.body.deliveries.map((d) => Date.parse(d.next_attempt_at ?? ""));
    expect(
      await eventually(
        () => alarmOf(accountId),
        (at) => at === Math.min(...retries),
      ),
    ).toBe(Math.min(...retries));
    await holdAll(hook.name, 0);
    expect(await fireAlarmAt(accountId, Math.max(...retries) + 1_000)).toBe(true);
    expect(await deliveriesOf(base, grant.id)).toEqual([
      ["requested", "delivered", [timedOut, [204, null]]],
      ["approved", "delivered", [timedOut, [204, null]]],
    ]);
    const received = await receivedOn(hook.name);
    expect(received.map((r) => JSON.parse(r.body).event)).toEqual([
      "grant.requested",
      "grant.approved",
    ]);
  });

  it("a new callback secret signs beside the old one during the overlap; id and event are signed", async ({
    expect,
  }) => {
    const { base } = await newAccount(expect);
    const rotated = await send("PUT", `${base}/grant-settings`, {
      callback_secret: SECRET_B,
      previous_secret_valid_for_s: 3600,
    });
    const until = Date.parse(
      (rotated.body as { previous_secret_valid_until: string }).previous_secret_valid_until,
    );
    expect(Math.abs(until - (Date.now() + 3_600_000))).toBeLessThan(60_000);
    const hook = newHook();
    const grant = (await send<GrantBody>("POST", `${base}/grants`, laterGrant(hook.url))).body;
    const [first] = await eventually(
      () => receivedOn(hook.name),
      (r) => r.length === 1,
    );
    if (first === undefined) {
      throw new Error("no callback");
    }
    expect(first.headers["x-tunnelplane-signature"]?.split(",").length).toBe(2);
    expect(await signedUnder(first, [CALLBACK_SECRET, SECRET_B, SECRET_C])).toEqual([
      true,
      true,
      false,
    ]);
    const otherEvent = {
      ...first,
      headers: { ...first.headers, "x-tunnelplane-event": "approved" },
    };
    const otherId = {
      ...first,
      headers: { ...first.headers, "x-tunnelplane-delivery": `${grant.id}.000002` },
    };
    expect(await signedUnder(otherEvent, [CALLBACK_SECRET, SECRET_B])).toEqual([false, false]);
    expect(await signedUnder(otherId, [CALLBACK_SECRET, SECRET_B])).toEqual([false, false]);

    const cut = await send("PUT", `${base}/grant-settings`, {
      callback_secret: SECRET_C,
      previous_secret_valid_for_s: 0,
    });
    expect(cut.body).toMatchObject({
      callback_secret_set: true,
      previous_secret_valid_until: null,
    });
    await send("POST", `${base}/grants/${grant.id}/cancel`, {});
    const [, second] = await eventually(
      () => receivedOn(hook.name),
      (r) => r.length === 2,
    );
    if (second === undefined) {
      throw new Error("no second callback");
    }
    expect(JSON.parse(second.body).event).toBe("grant.cancelled");
    expect(await signedUnder(second, [CALLBACK_SECRET, SECRET_B, SECRET_C])).toEqual([
      false,
      false,
      true,
    ]);
  });

  it("each ticket system with a receiver has its own secret; the others use the account's", async ({
    expect,
  }) => {
    const { base } = await newAccount(expect);
    const put = await send("PUT", `${base}/grant-settings/receivers/servicenow`, {
      callback_secret: SECRET_B,
    });
    expect([put.status, put.body]).toEqual([
      200,
      {
        ticket_system: "servicenow",
        updated_at: expect.any(String),
        previous_secret_valid_until: null,
      },
    ]);
    const hooks = [newHook(), newHook()];
    await send("POST", `${base}/grants`, laterGrant(hooks[0]?.url ?? "", null, "servicenow"));
    await send("POST", `${base}/grants`, laterGrant(hooks[1]?.url ?? "", null, "jira"));
    const signed = [];
    for (const hook of hooks) {
      const [callback] = await eventually(
        () => receivedOn(hook.name),
        (r) => r.length === 1,
      );
      signed.push(
        callback === undefined ? [] : await signedUnder(callback, [CALLBACK_SECRET, SECRET_B]),
      );
    }
    expect(signed).toEqual([
      [false, true],
      [true, false],
    ]);
    const list = await send<{ items: { ticket_system: string }[] }>(
      "GET",
      `${base}/grant-settings/receivers`,
    );
    expect(list.body.items.map((r) => r.ticket_system)).toEqual(["servicenow"]);
    const gone = await send("DELETE", `${base}/grant-settings/receivers/servicenow`);
    const again = await send("DELETE", `${base}/grant-settings/receivers/servicenow`);
    expect([gone.status, again.status]).toEqual([204, 404]);
  });
});

interface SubscriptionBody {
  id: string;
  version: number;
  secret?: string;
  last_delivery: { status: string; status_code: number | null; error: string | null } | null;
}
interface EventDeliveryBody {
  event_type: string;
  status: string;
  attempts: { status_code: number | null; error: string | null }[];
  next_attempt_at: string | null;
}

/** Subscribes `hook` to `events` of the account (with EVENT_SECRET); returns the subscription. */
async function subscribe(
  expect: ExpectStatic,
  base: string,
  url: string,
  events: string[],
  format: "json" | "slack" = "json",
) {
  const created = await send<SubscriptionBody>("POST", `${base}/event-subscriptions`, {
    url,
    events,
    format,
    secret: EVENT_SECRET,
  });
  expect(created.status).toBe(201);
  return created.body;
}

/** Reads `read()` every 50 ms until `done` holds, at most 12 s (queue retries wait 1 s, 2 s). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 240 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

const bodiesOn = async (hook: string) =>
  (await receivedOn(hook)).map((r) => JSON.parse(r.body) as Record<string, unknown>);

describe("event subscriptions", () => {
  it("a reconcile that repairs drift sends drift.detected then drift.repaired through the queue, signed", async ({
    expect,
  }) => {
    const { accountId, base } = await newAccount(expect);
    const tunnel = (await send<{ id: string }>("POST", `${base}/tunnels`, { name: "dc1" })).body;
    const route = (
      await send<{ id: string }>("POST", `${base}/routes`, {
        network: "10.0.0.0/8",
        tunnel_id: tunnel.id,
      })
    ).body;
    expect((await send<{ outcome: string }>("POST", `${base}/reconcile`)).body.outcome).toBe(
      "succeeded",
    );
    const hook = newHook();
    const subscription = await subscribe(expect, base, hook.url, ["drift.*"]);
    const observed = (
      await sdk().zeroTrust.networks.routes.list({ account_id: accountId, is_deleted: false })
    ).result;
    await sdk().zeroTrust.networks.routes.delete(
      observed.find((r) => r.network === "10.0.0.0/8")?.id ?? "",
      { account_id: accountId },
    );
    const run = await send<{ id: string; outcome: string }>("POST", `${base}/reconcile`);
    expect(run.body.outcome).toBe("succeeded");

    const received = await eventually(
      () => receivedOn(hook.name),
      (r) => r.length === 2,
    );
    const finishedAt = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
    expect(received.map((r) => JSON.parse(r.body))).toEqual([
      {
        id: `${run.body.id}.drift.detected`,
        type: "drift.detected",
        account_id: accountId,
        occurred_at: finishedAt,
        data: {
          run_id: run.body.id,
          count: 1,
          drift: [{ kind: "tunnel_route", key: route.id, reason: "missing in Cloudflare" }],
        },
      },
      {
        id: `${run.body.id}.drift.repaired`,
        type: "drift.repaired",
        account_id: accountId,
        occurred_at: finishedAt,
        data: {
          run_id: run.body.id,
          count: 1,
          repaired: [{ kind: "tunnel_route", key: route.id }],
        },
      },
    ]);
    expect(received.map((r) => r.headers["x-tunnelplane-event"])).toEqual([
      "drift.detected",
      "drift.repaired",
    ]);
    const signed = [];
    for (const callback of received) {
      signed.push(await signedUnder(callback, [EVENT_SECRET, CALLBACK_SECRET]));
    }
    expect(signed).toEqual([
      [true, false],
      [true, false],
    ]);
    const after = await send<SubscriptionBody>(
      "GET",
      `${base}/event-subscriptions/${subscription.id}`,
    );
    expect([after.body.last_delivery, after.body.secret]).toEqual([
      { status: "delivered", at: expect.any(String), status_code: 204, error: null },
      undefined,
    ]);
  });

  it("grant.* receives every grant event, a slack subscription gets {text, blocks}, and desired-state writes raise desired_state.changed", async ({
    expect,
  }) => {
    const { accountId, base } = await newAccount(expect);
    const [grants, slack, desired] = [newHook(), newHook(), newHook()];
    await subscribe(expect, base, grants.url, ["grant.*"]);
    await subscribe(expect, base, slack.url, ["grant.requested"], "slack");
    await subscribe(expect, base, desired.url, ["desired_state.changed"]);
    // A ticket id is the caller's text: Slack must show it, not ping the channel or link it.
    const ticket = { system: "servicenow", id: "CHG42 <!channel> <https://evil.example|Approve>" };
    const grant = (await send<GrantBody>("POST", `${base}/grants`, { ...laterGrant(null), ticket }))
      .body;
    const approver = await mintKey(expect, "operator", [accountId]);
    await send("POST", `${base}/grants/${grant.id}/approve`, {}, approver.secret);
    await send("POST", `${base}/grants/${grant.id}/cancel`, {});
    const vnet = (await send<{ id: string }>("POST", `${base}/virtual-networks`, { name: "lab" }))
      .body;

    const grantEvents = await eventually(
      () => bodiesOn(grants.name),
      (r) => r.length === 3,
    );
    expect(
      grantEvents
        .map((e) => [e.type, (e.data as { state: string; version: number }).version])
        .sort(),
    ).toEqual([
      ["grant.approved", 2],
      ["grant.cancelled", 3],
      ["grant.requested", 1],
    ]);
    expect(grantEvents.find((e) => e.type === "grant.requested")).toEqual({
      id: `${grant.id}.000001`,
      type: "grant.requested",
      account_id: accountId,
      occurred_at: expect.any(String),
      data: {
        grant_id: grant.id,
        version: 1,
        state: "requested",
        ticket_system: "servicenow",
        ticket_id: ticket.id,
        subject_email: "contractor@example.com",
        destinations: ["10.128.0.7/32"],
        starts_at: expect.any(String),
        ends_at: expect.any(String),
      },
    });
    const text = `Grant ${grant.id} for contractor@example.com (ticket servicenow CHG42 &lt;!channel&gt; &lt;https://evil.example|Approve&gt;) is now requested in account ${accountId}`;
    expect(
      await eventually(
        () => bodiesOn(slack.name),
        (r) => r.length === 1,
      ),
    ).toEqual([
      {
        text,
        blocks: [{ type: "section", text: { type: "mrkdwn", text: `*grant.requested*\n${text}` } }],
      },
    ]);
    const [slackCall] = await receivedOn(slack.name);
    expect(slackCall && (await signedUnder(slackCall, [EVENT_SECRET]))).toEqual([true]);
    expect(
      await eventually(
        () => bodiesOn(desired.name),
        (r) => r.length === 1,
      ),
    ).toEqual([
      {
        id: expect.stringMatching(/\.desired_state\.changed$/),
        type: "desired_state.changed",
        account_id: accountId,
        occurred_at: expect.any(String),
        data: {
          operation: "createVirtualNetwork",
          kind: "virtual-networks",
          object_id: vnet.id,
          actor: "bootstrap-admin",
        },
      },
    ]);
  });

  it("a failing receiver is retried with backoff through the queue, then marked failed", {
    timeout: 20_000,
  }, async ({ expect }) => {
    const { base } = await newAccount(expect);
    const [flaky, down] = [newHook(), newHook()];
    await failNext(flaky.name, 1);
    await failNext(down.name, 10);
    const recovers = await subscribe(expect, base, flaky.url, ["desired_state.changed"]);
    const fails = await subscribe(expect, base, down.url, ["desired_state.*"]);
    await send("POST", `${base}/virtual-networks`, { name: "retry" });
    const deliveries = (id: string) =>
      send<{ items: EventDeliveryBody[] }>(
        "GET",
        `${base}/event-subscriptions/${id}/deliveries`,
      ).then((r) =>
        r.body.items.map((d) => [
          d.event_type,
          d.status,
          d.attempts.map((a) => [a.status_code, a.error]),
          d.next_attempt_at,
        ]),
      );
    const notAnswered = [503, "the receiver did not answer 2xx"];
    expect(
      await until(
        () => deliveries(recovers.id),
        (d) => d[0]?.[1] === "delivered",
      ),
    ).toEqual([["desired_state.changed", "delivered", [notAnswered, [204, null]], null]]);
    expect(
      await until(
        () => deliveries(fails.id),
        (d) => d[0]?.[1] === "failed",
      ),
    ).toEqual([["desired_state.changed", "failed", [notAnswered, notAnswered, notAnswered], null]]);
    expect(await startedOn(down.name)).toBe(3);
    const marked = await send<SubscriptionBody>("GET", `${base}/event-subscriptions/${fails.id}`);
    expect(marked.body.last_delivery).toEqual({
      status: "failed",
      at: expect.any(String),
      status_code: 503,
      error: "the receiver did not answer 2xx",
    });
  });

  it("an event for more subscriptions than one queue batch holds (100) is stored, sent and answered", {
    timeout: 20_000,
  }, async ({ expect }) => {
    const { accountId, base } = await newAccount(expect);
    const raised = await send("PATCH", base, { limits: { event_subscriptions: 101 } });
    expect(raised.status).toBe(200);
    const hook = newHook();
    for (let i = 0; i < 101; i++) {
      await subscribe(expect, base, `${hook.url}?n=${i}`, ["desired_state.changed"]);
    }
    const written = await send("POST", `${base}/virtual-networks`, { name: "fan-out" });
    expect(written.status).toBe(201);
    const stored = await env.DB.prepare(
      "SELECT count(*) AS n FROM event_deliveries WHERE account_id = ?",
    )
      .bind(accountId)
      .first<{ n: number }>();
    expect(stored?.n).toBe(101);
    const received = await until(
      () => receivedOn(hook.name),
      (r) => r.length === 101,
    );
    expect(received.length).toBe(101);
  });

  it("a queue that refuses the messages leaves the delivery pending and logs it, never failing the change; the cron sends it once overdue", async ({
    expect,
  }) => {
    const { accountId, base } = await newAccount(expect);
    const hook = newHook();
    await subscribe(expect, base, hook.url, ["desired_state.changed"]);
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const refusing = {
      sendBatch: () => Promise.reject(new Error("queue unavailable")),
    } as unknown as Queue<EventDeliveryMessage>;
    const event = {
      id: "req-1.desired_state.changed",
      type: "desired_state.changed" as const,
      accountId,
      atMs: 1_000,
      data: {},
    };
    const stored = await emitEvents(
      { db: createDb(env.DB), eventQueue: refusing },
      accountId,
      [event],
      1_000,
    );
    const lines = logged.mock.calls.map((args) => JSON.parse(String(args[0])));
    logged.mockRestore();
    const rows = await env.DB.prepare(
      "SELECT status FROM event_deliveries WHERE account_id = ? AND event_id = ?",
    )
      .bind(accountId, event.id)
      .all<{ status: string }>();
    expect([stored, rows.results, lines]).toEqual([
      1,
      [{ status: "pending" }],
      [
        {
          message: "events-not-raised",
          account_id: accountId,
          event_ids: [event.id],
          step: "enqueueing",
          error: "queue unavailable",
        },
      ],
    ]);

    // The cron tick queues it again only once it is overdue by the grace period.
    const deps = createReconcileDeps(env);
    const queue = env.RECONCILE_QUEUE as Queue<ReconcileMessage>;
    const dueAt = async () =>
      (
        await env.DB.prepare(
          "SELECT next_attempt_at_ms AS at FROM event_deliveries WHERE event_id = ?",
        )
          .bind(event.id)
          .first<{ at: number }>()
      )?.at;
    await runScheduledTick(deps, queue, 1_000 + OVERDUE_DELIVERY_GRACE_MS);
    expect(await dueAt()).toBe(1_000);
    await runScheduledTick(deps, queue, 1_001 + OVERDUE_DELIVERY_GRACE_MS);
    const received = await until(
      () => receivedOn(hook.name),
      (r) => r.length === 1,
    );
    expect(received.map((r) => JSON.parse(r.body).id)).toEqual([event.id]);
  });

  it("refuses a subscription past the account's event_subscriptions quota (20 by default)", async ({
    expect,
  }) => {
    const { accountId, base } = await newAccount(expect);
    const account = await send<{ limits: Record<string, number> }>("GET", base);
    expect(account.body.limits.event_subscriptions).toBe(20);
    expect((await send("PATCH", base, { limits: { event_subscriptions: 2 } })).status).toBe(200);
    const body = { url: newHook().url, events: ["*"], secret: EVENT_SECRET };
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await send("POST", `${base}/event-subscriptions`, body)).status);
    }
    const refused = await send<Record<string, unknown>>(
      "POST",
      `${base}/event-subscriptions`,
      body,
    );
    expect([statuses, refused.body.type, refused.body.limit, refused.body.detail]).toEqual([
      [201, 201, 422],
      "http://tunnelplane/problems/limit-exceeded",
      "event_subscriptions",
      `This needs 3 event_subscriptions and the account's limit is 2 (2 in use); an admin can raise it with PATCH /v1/accounts/${accountId} {"limits": {"event_subscriptions": 3}}.`,
    ]);
    const listed = await send<{ items: unknown[] }>("GET", `${base}/event-subscriptions`);
    expect(listed.body.items.length).toBe(2);
  });

  it("refuses a loopback URL at #/url and an unknown event, and only admins manage subscriptions", async ({
    expect,
  }) => {
    const { accountId, base } = await newAccount(expect);
    const loopback = await send<{ errors: unknown[] }>("POST", `${base}/event-subscriptions`, {
      url: "https://127.0.0.1/hook",
      events: ["grants.*"],
    });
    expect([loopback.status, loopback.body.errors]).toEqual([
      422,
      [
        {
          pointer: "#/url",
          detail: "127.0.0.1 is in loopback address space, not a public address",
          code: "callback-url-address-not-public",
        },
        {
          pointer: "#/events/0",
          detail: expect.stringMatching(/^an event type \(drift\.detected, /),
          code: "unknown-event",
        },
      ],
    ]);
    const ticketing = await mintKey(expect, "ticketing", [accountId], "servicenow");
    const operator = await mintKey(expect, "operator", [accountId]);
    const body = { url: newHook().url, events: ["*"] };
    const statuses = [];
    for (const key of [ticketing, operator]) {
      statuses.push(
        (await send("POST", `${base}/event-subscriptions`, body, key.secret)).status,
        (await send("GET", `${base}/event-subscriptions`, undefined, key.secret)).status,
      );
    }
    expect(statuses).toEqual([403, 403, 403, 200]);

    const generated = await send<SubscriptionBody>("POST", `${base}/event-subscriptions`, body);
    expect([generated.status, generated.body.secret?.length]).toEqual([201, 49]);
    const id = generated.body.id;
    const stale = await call("PATCH", `${base}/event-subscriptions/${id}`, {
      body: { enabled: false },
      headers: { "if-match": '"7"' },
    });
    const patched = await send<SubscriptionBody & { enabled: boolean }>(
      "PATCH",
      `${base}/event-subscriptions/${id}`,
      { enabled: false },
    );
    const removed = await send("DELETE", `${base}/event-subscriptions/${id}`);
    const gone = await send("GET", `${base}/event-subscriptions/${id}`);
    expect([
      stale.status,
      patched.status,
      patched.body.enabled,
      removed.status,
      gone.status,
    ]).toEqual([412, 200, false, 204, 404]);
    const log = await send<{ items: { action: string; after: unknown }[] }>(
      "GET",
      `${base}/audit-log?object_id=${id}`,
    );
    expect(log.body.items.map((e) => e.action).sort()).toEqual([
      "createEventSubscription",
      "deleteEventSubscription",
      "updateEventSubscription",
    ]);
    const created = log.body.items.find((e) => e.action === "createEventSubscription");
    expect(created?.after).toMatchObject({ id, secret: "(redacted)" });
  });

  it("only admins read a webhook URL whole; operators, viewers and the audit log see scheme and host", async ({
    expect,
  }) => {
    const { accountId, base } = await newAccount(expect);
    const slack = "https://hooks.slack.com/services/T0001/B0002/abcdefghijklmnopqrstuvwx";
    const replaced = "https://hooks.slack.com/services/T0001/B0003/zyxwvutsrqponmlkjihgfedc";
    const created = await send<SubscriptionBody & { url: string }>(
      "POST",
      `${base}/event-subscriptions`,
      { url: slack, events: ["run.failed"], format: "slack", secret: EVENT_SECRET },
    );
    const id = created.body.id;
    const patched = await send<{ url: string }>("PATCH", `${base}/event-subscriptions/${id}`, {
      url: replaced,
    });
    expect([created.status, created.body.url, patched.status, patched.body.url]).toEqual([
      201,
      slack,
      200,
      replaced,
    ]);
    const viewer = await mintKey(expect, "viewer", [accountId]);
    const operator = await mintKey(expect, "operator", [accountId]);
    const seen = [];
    for (const key of [viewer.secret, operator.secret, undefined]) {
      const listed = await send<{ items: { url: string }[] }>(
        "GET",
        `${base}/event-subscriptions`,
        undefined,
        key,
      );
      const one = await send<{ url: string }>(
        "GET",
        `${base}/event-subscriptions/${id}`,
        undefined,
        key,
      );
      seen.push([listed.status, listed.body.items.map((s) => s.url), one.status, one.body.url]);
    }
    expect(seen).toEqual([
      [200, ["https://hooks.slack.com/…"], 200, "https://hooks.slack.com/…"],
      [200, ["https://hooks.slack.com/…"], 200, "https://hooks.slack.com/…"],
      [200, [replaced], 200, replaced],
    ]);

    expect((await send("DELETE", `${base}/event-subscriptions/${id}`)).status).toBe(204);
    const log = await send<{
      items: { action: string; before: { url: string } | null; after: { url: string } | null }[];
    }>("GET", `${base}/audit-log?object_id=${id}`, undefined, viewer.secret);
    expect(
      log.body.items
        .map((e) => [e.action, e.before?.url ?? null, e.after?.url ?? null])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      ["createEventSubscription", null, "https://hooks.slack.com/…"],
      ["deleteEventSubscription", "https://hooks.slack.com/…", null],
      ["updateEventSubscription", "https://hooks.slack.com/…", "https://hooks.slack.com/…"],
    ]);
    expect(JSON.stringify(log.body).includes("/services/")).toBe(false);
  });
});

describe("sealed secrets", () => {
  it("refuses an implausible API token with 422 before sealing it, without echoing it", async ({
    expect,
  }) => {
    const results = [];
    for (const token of REFUSED_TOKENS) {
      const accountId = newAccountId();
      const response = await send<{ errors: { pointer: string; detail: string }[] }>(
        "POST",
        "/v1/accounts",
        { account_id: accountId, name: "bad token", api_token: token },
      );
      const stored = await env.DB.prepare("SELECT count(*) AS n FROM accounts WHERE id = ?")
        .bind(accountId)
        .first<{ n: number }>();
      results.push([response.status, response.body.errors, stored?.n]);
    }
    expect(results).toEqual([
      [
        422,
        [
          {
            pointer: "#/api_token",
            detail: "printable ASCII without spaces",
            code: "invalid-format",
          },
        ],
        0,
      ],
      [
        422,
        [
          {
            pointer: "#/api_token",
            detail: "printable ASCII without spaces",
            code: "invalid-format",
          },
        ],
        0,
      ],
      [422, [{ pointer: "#/api_token", detail: "at least 40 characters", code: "too-small" }], 0],
    ]);
  });

  it("a malformed key ring is refused with a message that never holds a key", async ({
    expect,
  }) => {
    const key = env.TOKEN_ENCRYPTION_KEY;
    const rings = [
      {},
      { TOKEN_ENCRYPTION_KEYS: key },
      { TOKEN_ENCRYPTION_KEYS: `v2:${key.slice(0, 20)}` },
      { TOKEN_ENCRYPTION_KEYS: `v2:${key},v2:${NEW_KEY}` },
      { TOKEN_ENCRYPTION_KEYS: `v2:%%%` },
    ];
    const messages = [];
    for (const ring of rings) {
      messages.push(
        await loadKeyRing(ring).then(
          () => "loaded",
          (error: Error) => `${error.name}: ${error.message}`,
        ),
      );
    }
    expect(messages).toEqual([
      "KeyRingError: set TOKEN_ENCRYPTION_KEYS (or TOKEN_ENCRYPTION_KEY)",
      "KeyRingError: key 1: write it as v<number>:<base64 key>",
      "KeyRingError: key v2: must be 32 bytes, base64-encoded",
      "KeyRingError: a key version is listed twice",
      "KeyRingError: key v2: not base64",
    ]);
  });

  it("a key rotation re-seals every secret from the cron tick, and the next reconcile still works", async ({
    expect,
  }) => {
    const first = await newAccount(expect);
    await send("PUT", `${first.base}/grant-settings/receivers/jira`, { callback_secret: SECRET_C });
    const legacy = await newAccount(expect);
    const lost = await newAccount(expect);
    // An account sealed the way tunnelplane did before key versions: no prefix, no associated data.
    const key = await crypto.subtle.importKey(
      "raw",
      Uint8Array.from(atob(env.TOKEN_ENCRYPTION_KEY), (c) => c.charCodeAt(0)),
      "AES-GCM",
      false,
      ["encrypt"],
    );
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv },
        key,
        new TextEncoder().encode(SEED_TOKEN),
      ),
    );
    const unversioned = btoa(String.fromCharCode(...iv, ...sealed))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    await env.DB.prepare("UPDATE accounts SET api_token_ciphertext = ? WHERE id = ?")
      .bind(unversioned, legacy.accountId)
      .run();
    // An account whose key left the ring too early: skipped and logged, never guessed at.
    await env.DB.prepare("UPDATE accounts SET api_token_ciphertext = 'v9:AAAA' WHERE id = ?")
      .bind(lost.accountId)
      .run();

    const rotated = {
      ...env,
      TOKEN_ENCRYPTION_KEYS: `v2:${NEW_KEY},v1:${env.TOKEN_ENCRYPTION_KEY}`,
    };
    const tick = async (tickEnv: Env) => {
      const queue = {
        send: async () => {},
        sendBatch: async (_: Iterable<ReconcileMessage>) => {},
      };
      await worker.scheduled(
        createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }),
        { ...tickEnv, RECONCILE_QUEUE: queue as unknown as Queue },
      );
    };
    const sealedValues = async () => {
      const tokens = await env.DB.prepare("SELECT api_token_ciphertext AS v FROM accounts").all<{
        v: string;
      }>();
      const secrets = await env.DB.prepare(
        `SELECT callback_secret_ciphertext AS v FROM grant_settings
         UNION ALL SELECT previous_callback_secret_ciphertext FROM grant_settings WHERE previous_callback_secret_ciphertext IS NOT NULL
         UNION ALL SELECT secret_ciphertext FROM callback_receivers
         UNION ALL SELECT previous_secret_ciphertext FROM callback_receivers WHERE previous_secret_ciphertext IS NOT NULL`,
      ).all<{ v: string }>();
      return [...tokens.results, ...secrets.results].map((r) => r.v);
    };
    const versionsOf = (values: string[]) =>
      [...new Set(values.map((v) => v.split(":")[0]))].sort();

    await tick(rotated);
    expect(versionsOf(await sealedValues())).toEqual(["v2", "v9"]);
    expect(logged.filter((l) => l.includes("reseal-skipped")).map((l) => JSON.parse(l))).toEqual([
      {
        event: "reseal-skipped",
        account_id: lost.accountId,
        column: "api-token",
        reason: `key v9 is not in the key ring`,
      },
    ]);

    const rotatedRing = await loadKeyRing(rotated);
    const oldRing = await loadKeyRing({ TOKEN_ENCRYPTION_KEY: env.TOKEN_ENCRYPTION_KEY });
    const row = await env.DB.prepare(
      "SELECT a.api_token_ciphertext AS token, g.callback_secret_ciphertext AS secret FROM accounts a JOIN grant_settings g ON g.account_id = a.id WHERE a.id = ?",
    )
      .bind(first.accountId)
      .first<{ token: string; secret: string }>();
    const asFirst = { accountId: first.accountId, purpose: "api-token" } as const;
    expect(await openSecret(rotatedRing, row?.token ?? "", asFirst)).toBe(SEED_TOKEN);
    expect(
      await openSecret(rotatedRing, row?.secret ?? "", { ...asFirst, purpose: "callback-secret" }),
    ).toBe(CALLBACK_SECRET);
    await expect(openSecret(oldRing, row?.token ?? "", asFirst)).rejects.toThrow(
      "key v2 is not in the key ring",
    );
    const receiver = await env.DB.prepare(
      "SELECT secret_ciphertext AS v FROM callback_receivers WHERE account_id = ? AND ticket_system = 'jira'",
    )
      .bind(first.accountId)
      .first<{ v: string }>();
    expect(
      await openSecret(rotatedRing, receiver?.v ?? "", {
        ...asFirst,
        purpose: "callback-secret",
        scope: "jira",
      }),
    ).toBe(SECRET_C);
    // Bound to account and purpose: the same ciphertext does not open for another account or column.
    await expect(
      openSecret(rotatedRing, row?.token ?? "", {
        accountId: legacy.accountId,
        purpose: "api-token",
      }),
    ).rejects.toThrow("does not open under key v2");
    await expect(
      openSecret(rotatedRing, row?.token ?? "", { ...asFirst, purpose: "callback-secret" }),
    ).rejects.toThrow("does not open under key v2");

    const deps = createReconcileDeps(rotated);
    const runs = [];
    for (const { accountId } of [first, legacy]) {
      const outcome = await reconcileAccount(deps, accountId, "queue");
      runs.push(outcome.status === "done" ? outcome.run.outcome : outcome.status);
    }
    expect(runs).toEqual(["succeeded", "succeeded"]);

    // Listing the old key first rolls back the same way, so the rest of the suite keeps its ring.
    await tick({ ...env, TOKEN_ENCRYPTION_KEYS: `v1:${env.TOKEN_ENCRYPTION_KEY},v2:${NEW_KEY}` });
    expect(versionsOf(await sealedValues())).toEqual(["v1", "v9"]);
    const after = await send<{ outcome: string }>("POST", `${first.base}/reconcile`);
    expect(after.body.outcome).toBe("succeeded");
  });

  it("no table of D1, no response of this file and no Worker log line holds a secret in plain text", async ({
    expect,
  }) => {
    const tables = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
    ).all<{ name: string }>();
    const dump: string[] = [];
    for (const { name } of tables.results) {
      const rows = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
      dump.push(JSON.stringify(rows.results));
    }
    expect(tables.results.map((t) => t.name)).toContain("grant_settings");
    expect(responses.length).toBeGreaterThan(40);
    const found = SECRETS.flatMap((secret) =>
      [
        ["D1", dump],
        ["responses", responses],
        ["log", logged],
      ].flatMap(([where, texts]) =>
        (texts as string[]).some((t) => t.includes(secret)) ? [`${secret} in ${where}`] : [],
      ),
    );
    expect(found).toEqual([]);
  });
});

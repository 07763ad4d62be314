/**
 * tunnelplane as a person sees it: headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against `wrangler dev` of the control plane and the emulator, started here on
 * free ports with the demo account seeded and reconciled once. `/docs` must render from the Worker
 * alone (every request to another origin is refused and listed), and the dashboard must show the
 * demo account's runs, conflicts and grants. Screenshots go to test/artifacts/ at a laptop's and
 * a phone's width. Without /usr/bin/chromium the tests are skipped with the reason printed.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, it } from "vitest";
import { DEMO_ACCOUNT_ID, seedDemo } from "../../scripts/demo.mjs";
import { ADMIN_KEY, type Stack, startStack } from "./stack";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));
/**
 * The pages are opened on this name (mapped to loopback), as a deployed Worker's would be: on a
 * loopback address Scalar 1.44 adds an assistant that calls Scalar's servers.
 */
const HOST = "tunnelplane.internal";
/** Without the background-networking flags Chromium dials out at start, which a closed network refuses. */
const CHROMIUM_ARGS = [
  `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const readJson = (file: string) =>
  JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), "utf8"));
/** The pinned Scalar version, which names the script /docs serves. */
const SCALAR_VERSION: string = readJson("package.json").dependencies["@scalar/api-reference"];

interface OpenApiDocument {
  paths: Record<string, Record<string, { tags: string[] }>>;
  components: { schemas: Record<string, { properties: Record<string, { pattern?: string }> }> };
}
/** The committed OpenAPI document (openapi:check keeps it equal to the served one). */
const DOCUMENT: OpenApiDocument = readJson("openapi/openapi.json");
/** Every operation's tag, in document order, once each. */
const TAGS = [
  ...new Set(
    Object.values(DOCUMENT.paths).flatMap((ops) => Object.values(ops).map((op) => op.tags[0])),
  ),
];
/** `METHOD path` of every operation of the first tag (the one Scalar opens), in document order. */
const FIRST_TAG_OPERATIONS = Object.entries(DOCUMENT.paths).flatMap(([pathname, ops]) =>
  Object.entries(ops).flatMap(([method, op]) =>
    op.tags[0] === TAGS[0] ? [`${method.toUpperCase()}${pathname}`] : [],
  ),
);
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const skipReason = existsSync(CHROMIUM)
  ? null
  : `${CHROMIUM} is not installed (apt-get install -y chromium)`;
if (skipReason !== null) {
  console.log(`browser tests skipped: ${skipReason}`);
}

describe.skipIf(skipReason !== null)("tunnelplane in a browser", () => {
  let stack: Stack;
  let context: BrowserContext;
  let profileDir: string;
  /** The control plane's base URL as the browser opens it. */
  let site: string;
  /** Every request the pages made to an origin other than the control plane's (all refused). */
  const outside: string[] = [];

  const call = async (method: string, url: string, body?: unknown) => {
    const response = await fetch(`${stack.api}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        "content-type": "application/json",
        "idempotency-key": crypto.randomUUID(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const started = Date.now();
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack();
    console.log(`wrangler dev of both Workers answered after ${Date.now() - started} ms`);
    await seedDemo(stack.api, ADMIN_KEY);
    const base = `/v1/accounts/${DEMO_ACCOUNT_ID}`;
    const run = await call("POST", `${base}/reconcile`);
    if (run.body.outcome !== "succeeded") {
      throw new Error(`the demo account's reconcile did not succeed: ${JSON.stringify(run.body)}`);
    }
    // One grant waiting for its start, so the dashboard has a pending grant with time left.
    const grant = await call("POST", `${base}/grants`, {
      ticket: { system: "servicenow", id: "CHG0031337" },
      subject_email: "contractor@example.com",
      destinations: ["10.128.0.7"],
      ports: [22],
      reason: "database migration",
      starts_at: new Date(Date.now() + 7_200_000).toISOString(),
      duration_s: 3600,
    });
    if (grant.status !== 201) {
      throw new Error(`the grant was refused: ${JSON.stringify(grant.body)}`);
    }
    profileDir = await mkdtemp(path.join(tmpdir(), "tunnelplane-chromium-"));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: LAPTOP,
      extraHTTPHeaders: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    site = stack.api.replace("127.0.0.1", HOST);
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${site}/`)) {
        return route.continue();
      }
      outside.push(url);
      return route.abort();
    });
    console.log(`stack seeded and browser started after ${Date.now() - started} ms`);
  });

  afterAll(async () => {
    await context?.close();
    await stack?.stop();
    if (profileDir !== undefined) {
      await rm(profileDir, { recursive: true, force: true });
    }
  });

  /** Opens `pathname` at `viewport`, waits for `ready`, and saves a screenshot (the whole page, or the screen). */
  async function visit(
    pathname: string,
    viewport: { width: number; height: number },
    ready: (page: Page) => Promise<unknown>,
    screenshot: string,
    fullPage = true,
  ): Promise<Page> {
    const page = await context.newPage();
    await page.setViewportSize(viewport);
    await page.goto(`${site}${pathname}`);
    await ready(page);
    await page.screenshot({ path: path.join(ARTIFACTS, screenshot), fullPage });
    return page;
  }

  it("/docs renders the operations and their schemas from the Worker alone", async ({ expect }) => {
    const operation = (page: Page) => page.getByRole("heading", { name: "Models" }).waitFor();
    const docs = await visit("/docs", LAPTOP, operation, "docs-laptop.png", false);
    expect(await docs.title()).toBe("tunnelplane API");
    const scripts = docs.locator("script[src]");
    expect([await scripts.count(), await scripts.first().getAttribute("src")]).toEqual([
      1,
      `/docs/scalar-${SCALAR_VERSION}.js`,
    ]);
    const sidebar = await docs.getByRole("navigation").first().textContent();
    for (const tag of TAGS) {
      expect(sidebar).toContain(tag);
    }
    // Scalar renders the open tag's operations, each with its request body's fields.
    const ids = await docs
      .locator("[id^='api-1/tag/']")
      .evaluateAll((nodes) => nodes.map((node) => node.id));
    const prefix = `api-1/tag/${TAGS[0]?.toLowerCase().replace(/ /g, "-")}/`;
    const operations = [
      ...new Set(ids.filter((id) => /^[^.]+$/.test(id) && id.startsWith(prefix))),
    ];
    expect(operations.map((id) => id.slice(prefix.length))).toEqual(FIRST_TAG_OPERATIONS);
    const firstOperation = `${prefix}${FIRST_TAG_OPERATIONS[0]}`;
    const bodyFields = ids.filter((id) => id.startsWith(`${firstOperation}.body.`));
    expect(bodyFields.map((id) => id.split(".body.")[1]).sort()).toEqual(
      Object.keys(DOCUMENT.components.schemas.ApiKeyInput?.properties ?? {}).sort(),
    );
    const section = docs.locator(`[id='${firstOperation}']`);
    await section.scrollIntoViewIfNeeded();
    await section.screenshot({ path: path.join(ARTIFACTS, "docs-operation-laptop.png") });
    const ticketSystem = DOCUMENT.components.schemas.ApiKeyInput?.properties.ticket_system;
    expect(await section.textContent()).toContain(ticketSystem?.pattern);
    // The same page at a phone's width (Scalar's layout follows the viewport).
    await docs.setViewportSize(PHONE);
    await docs.evaluate("window.scrollTo(0, 0)");
    await docs.getByRole("heading", { name: "tunnelplane", exact: true }).waitFor();
    await docs.screenshot({ path: path.join(ARTIFACTS, "docs-phone.png") });
    expect(outside).toEqual([]);
  });

  it("the dashboard shows the demo account's runs, conflicts and grants", async ({ expect }) => {
    const accounts = await visit(
      "/dashboard",
      LAPTOP,
      (page) => page.getByRole("link", { name: "Demo" }).waitFor(),
      "dashboard-accounts-laptop.png",
    );
    expect(await accounts.locator("tbody tr").allInnerTexts()).toEqual([
      expect.stringMatching(/^Demo\n0123456789abcdef0123456789abcdef\thealthy\tsucceeded /),
    ]);
    await visit(
      "/dashboard",
      PHONE,
      (page) => page.getByRole("link", { name: "Demo" }).waitFor(),
      "dashboard-accounts-phone.png",
    );
    await accounts.getByRole("link", { name: "Demo" }).click();
    await accounts.getByRole("heading", { name: "Last runs" }).waitFor();
    expect(accounts.url()).toBe(`${site}/dashboard/accounts/${DEMO_ACCOUNT_ID}`);

    const ready = (page: Page) => page.getByRole("heading", { name: "Tunnels" }).waitFor();
    for (const [viewport, screenshot] of [
      [LAPTOP, "dashboard-account-laptop.png"],
      [PHONE, "dashboard-account-phone.png"],
    ] as const) {
      const page = await visit(
        `/dashboard/accounts/${DEMO_ACCOUNT_ID}`,
        viewport,
        ready,
        screenshot,
      );
      const table = (heading: string) =>
        page
          .locator(
            `xpath=//h2[.="${heading}"]/following-sibling::div[contains(@class,"scroll")][1]//tbody/tr`,
          )
          .evaluateAll((rows) =>
            rows.map((row) =>
              [...row.querySelectorAll("td")].map((cell) => cell.textContent).join("\t"),
            ),
          );
      expect(await table("Last runs")).toEqual([
        expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:]{8}Z\tapi\tsucceeded\t\d+ ms\t\d+\t7\t0$/),
      ]);
      expect(await table("Conflicts and warnings")).toEqual([
        "warning\thome-lan-overlap\t10.0.0.0/8 overlaps the common home LAN 10.0.0.0/24; users on such a LAN cannot reach 10.0.0.0/24",
      ]);
      expect(await table("Grants, active and pending")).toEqual([
        "contractor@example.com\t10.128.0.7/32\tservicenow CHG0031337\trequested\tstarts in 2 h 0 min",
      ]);
      // Nothing is wider than the screen: on a phone the tables stack, and the plot scrolls in its box.
      const overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
      );
      expect(overflow).toBe(0);
    }
    expect(outside).toEqual([]);
  });
});

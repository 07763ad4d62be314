/** Types of demo.mjs (the demo account `npm start` and the browser test seed). */

/** The demo account's Cloudflare account id. */
export const DEMO_ACCOUNT_ID: string;

/** Seeds the demo account through the API at `api` (idempotent); returns its id and what was done. */
export function seedDemo(
  api: string,
  adminKey: string,
): Promise<{ accountId: string; note: string }>;

// Bindings that wrangler.toml cannot declare for every environment.
declare namespace Cloudflare {
  interface Env {
    /**
     * Optional service binding to a Cloudflare API emulator. When bound, the SDK sends its
     * requests through it instead of CLOUDFLARE_API_BASE_URL (the tests bind the emulator here).
     */
    CLOUDFLARE_API?: Fetcher;
    /**
     * The commit this Worker was built from, reported by /healthz; set at deploy
     * (`wrangler deploy --var TUNNELPLANE_COMMIT:$(git rev-parse --short HEAD)`), and by `npm start`.
     */
    TUNNELPLANE_COMMIT?: string;
    /**
     * Optional service binding that grant callbacks are sent through instead of the global fetch
     * (the tests bind a callback receiver Worker here). Unbound in production.
     */
    CALLBACK_FETCH?: Fetcher;
    /**
     * Versioned key ring that seals API tokens and callback secrets: `v2:<base64>,v1:<base64>`
     * (32-byte keys; the highest version seals, every listed one opens). When unset, the single
     * TOKEN_ENCRYPTION_KEY is the ring's `v1`.
     */
    TOKEN_ENCRYPTION_KEYS?: string;
    /**
     * Cloudflare Access login: the team domain (`<team>.cloudflareaccess.com`) and the
     * application's AUD tag. Both set: a `Cf-Access-Jwt-Assertion` header is accepted.
     */
    ACCESS_TEAM_DOMAIN?: string;
    ACCESS_AUD?: string;
    /**
     * Optional service binding the Access signing keys are fetched through instead of the
     * global fetch (the tests bind a Worker serving a generated key set). Unbound in production.
     */
    ACCESS_CERTS_FETCH?: Fetcher;
  }
}

/** Scalar's standalone browser bundle, imported as text (the Text module rule in wrangler.toml). */
declare module "@scalar/api-reference/browser/standalone.js" {
  const text: string;
  export default text;
}

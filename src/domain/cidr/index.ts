/** CIDR parsing, canonical form, set algebra, lookups and Cloudflare's reserved ranges. */
export * from "./cover";
export * from "./decode";
export * from "./initial-resolved";
export * from "./known";
export * from "./lookup";
export * from "./parse";
export * from "./ranges";
export * from "./reserved";
export * from "./words";

/** Wire shapes of import: what to adopt, and the stored object with what was found. */
import { z } from "@hono/zod-openapi";
import { objectEnvelope } from "../desired/object.schemas";
import { SkippedList } from "../schemas/skipped";

export const ImportInput = z
  .strictObject({
    kind: z
      .enum(["network_policy", "hostname_route"])
      .openapi({ description: "What to import: a Gateway network rule or a hostname route." }),
    cloudflare_id: z
      .string()
      .min(1)
      .max(64)
      .openapi({ description: "The Gateway rule's or the hostname route's id." }),
  })
  .openapi("ImportInput");

const PolicyImport = z.object({
  kind: z.literal("network_policy"),
  cloudflare_id: z.string(),
  policy: z.object(objectEnvelope).passthrough().openapi({
    description: "The stored network policy, as GET …/policies/{id} shows it.",
  }),
  before: z.object({ traffic: z.string(), identity: z.string(), device_posture: z.string() }),
  skipped: SkippedList,
});

const HostnameRouteImport = z.object({
  kind: z.literal("hostname_route"),
  cloudflare_id: z.string(),
  hostname_route: z.object(objectEnvelope).passthrough().openapi({
    description:
      "The stored hostname route, as GET …/hostname-routes/{id} shows it. Cloudflare keeps `*.x` as `x`, so the hostname is stored in that form.",
  }),
  before: z.object({ hostname: z.string(), tunnel_id: z.string(), comment: z.string() }).openapi({
    description: "The route as found; `tunnel_id` is Cloudflare's id.",
  }),
  skipped: SkippedList,
});

export const ImportResult = z
  .discriminatedUnion("kind", [PolicyImport, HostnameRouteImport])
  .openapi("ImportResult");

/** What an import answers. */
export type ImportResultBody = z.infer<typeof ImportResult>;

/** What the import of one kind finds, before the observation's `skipped` is added. */
export type ImportedBody = ImportResultBody extends infer B
  ? B extends ImportResultBody
    ? Omit<B, "skipped">
    : never
  : never;

/**
 * Schemas shared by everything tunnelplane POSTs to: grant callback URLs and event webhook
 * URLs follow the same rules (domain/grants/callback-url), and their signing secrets the same
 * shape.
 */
import { z } from "@hono/zod-openapi";
import { checkCallbackUrl, describeCallbackUrlError } from "../../domain/grants/callback-url";

/** An https URL to a public host (domain/grants/callback-url); the port is checked per account. */
export const CallbackUrl = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    const checked = checkCallbackUrl(value, "any");
    if (!checked.ok) {
      ctx.addIssue({
        code: "custom",
        message: describeCallbackUrlError(checked.error),
        params: { code: checked.error.code },
      });
    }
  });

/** A signing secret as a caller gives it: 32..256 printable ASCII characters. */
export const CallbackSecret = z
  .string()
  .min(32)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
  .openapi({ example: "whsec_0123456789abcdefghijklmnopqrstuv" });

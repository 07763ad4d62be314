/**
 * Refuses JSON bodies holding text that is not valid Unicode. JSON lets a string carry a lone
 * UTF-16 surrogate (`"\ud800"`); stored and sent back, it makes every later response holding it
 * unreadable to strict JSON parsers, so one bad write would break reads of the whole collection.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { type InvalidField, validationProblem } from "../problem";

/** A UTF-16 surrogate not paired with its partner: with the `u` flag, pairs are one code point. */
const LONE_SURROGATE = /\p{Cs}/u;
/** How many bad strings one answer names: enough to show the pattern. */
const MAX_REPORTED = 10;

/** JSON pointer escaping (RFC 6901 §3). */
function escapeToken(token: string): string {
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

/**
 * The pointers of the strings and keys in `value` that hold a lone surrogate, at most
 * `MAX_REPORTED`. Walks with its own stack: parsed JSON can nest deeper than the call stack.
 */
function lonelySurrogates(value: unknown): InvalidField[] {
  const found: InvalidField[] = [];
  const stack: [unknown, string][] = [[value, "#"]];
  while (stack.length > 0 && found.length < MAX_REPORTED) {
    const [item, pointer] = stack.pop() as [unknown, string];
    if (typeof item === "string") {
      if (LONE_SURROGATE.test(item)) {
        found.push({
          pointer,
          detail: "not valid Unicode: holds a lone UTF-16 surrogate",
          code: "invalid-unicode",
        });
      }
    } else if (Array.isArray(item)) {
      item.forEach((child, index) => {
        stack.push([child, `${pointer}/${index}`]);
      });
    } else if (item !== null && typeof item === "object") {
      for (const [key, child] of Object.entries(item)) {
        stack.push([key, `${pointer}/${escapeToken(key)}`]);
        stack.push([child, `${pointer}/${escapeToken(key)}`]);
      }
    }
  }
  return found.reverse();
}

/**
 * 422 `validation-failed` naming each string (or key) that is not valid Unicode; bodies that are
 * not JSON are left to the route's validator (400/415).
 */
export const requireWellFormedText: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.header("content-type")?.includes("application/json")) {
    // Hono keeps the parsed body, so the route's validator reads it again for free.
    const body: unknown = await c.req.json().catch(() => undefined);
    const errors = lonelySurrogates(body);
    if (errors.length > 0) {
      throw validationProblem("Text in the body must be valid Unicode.", errors);
    }
  }
  await next();
};

/**
 * Field schemas that carry domain rules. The rule runs inside the schema (a refinement that calls
 * the domain function), so its error carries the field's pointer; handlers canonicalise again
 * with the same function.
 */
import { z } from "@hono/zod-openapi";
import { type CidrError, canonicalCidr, parseCidr } from "../domain/cidr/parse";
import {
  FIXED_RESERVED_RANGES,
  findReservedRange,
  type ReservedRangeMatch,
} from "../domain/cidr/reserved";
import { quoteInput } from "./problem";

/** A human sentence and a stable code for a CIDR error. */
export function describeCidrError(error: CidrError): { message: string; code: string } {
  switch (error.code) {
    case "host-bits-set":
      return {
        code: "cidr-host-bits-set",
        message: `${quoteInput(error.input)} has host bits set; the canonical form is ${error.canonical}`,
      };
    case "invalid-cidr":
      return {
        code: "invalid-cidr",
        message: `${quoteInput(error.input)} is not an IP address or CIDR (${error.reason})`,
      };
  }
}

/** An IPv4/IPv6 address or CIDR; a bare address means /32 or /128; host bits must be clear. */
export const CidrString = z
  .string()
  .max(64, { abort: true })
  .superRefine((value, ctx) => {
    const parsed = canonicalCidr(value);
    if (!parsed.ok) {
      const { message, code } = describeCidrError(parsed.error);
      ctx.addIssue({ code: "custom", message, params: { code } });
    }
  })
  .openapi({
    description:
      "IPv4 or IPv6 address or CIDR. A bare address is a /32 (/128). IPv6 is stored in RFC 5952 form.",
    example: "10.0.0.0/8",
  });

/** Why a route network is refused: it lies inside a Cloudflare reserved range. */
export function reservedRangeMessage(value: string, match: ReservedRangeMatch): string {
  return `${value} is inside Cloudflare's reserved range ${match.range.network} (${match.range.purpose})`;
}

/**
 * A CIDR for a tunnel route: as CidrString, and not inside a reserved range every account has
 * (the account's own initial resolved range is checked where the account is known).
 */
export const RouteNetworkString = CidrString.superRefine((value, ctx) => {
  const parsed = canonicalCidr(value);
  const reserved = parsed.ok ? findReservedRange(parsed.value, FIXED_RESERVED_RANGES) : undefined;
  if (reserved?.relation === "inside") {
    ctx.addIssue({
      code: "custom",
      message: reservedRangeMessage(value, reserved),
      params: { code: "reserved-range" },
    });
  }
});

/** The canonical form of a value that passed CidrString. */
export function canonical(value: string): string {
  const parsed = canonicalCidr(value);
  if (!parsed.ok) {
    throw new Error(`canonical() called on an unvalidated CIDR: ${value}`);
  }
  return parsed.value;
}

/** An email domain (`example.com`; a leading `@` is accepted and dropped), lower-cased. */
export const EmailDomain = z
  .string()
  .max(253)
  .transform((d) => d.replace(/^@/, "").toLowerCase())
  .pipe(
    z
      .string()
      .regex(
        /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
        "a domain such as example.com",
      ),
  )
  .openapi({ example: "example.com" });

/** An IPv4 or IPv6 address without a prefix length. */
export const IpAddressString = z
  .string()
  .max(64, { abort: true })
  .superRefine((value, ctx) => {
    if (value.includes("/") || !parseCidr(value).ok) {
      ctx.addIssue({
        code: "custom",
        message: `${value} is not an IPv4 or IPv6 address`,
        params: { code: "invalid-ip" },
      });
    }
  })
  .openapi({ description: "An IPv4 or IPv6 address (no prefix length).", example: "10.128.0.7" });

/**
 * Fills in an `example` for every request and response body of an OpenAPI document that has
 * none, so the reference shows a body for every operation, including ones added later. Named
 * components take the seed scenario's objects (seed-examples.ts); everything else is built from
 * the schema: field examples first, then defaults, enums, formats and bounds.
 */
import { SEED_ACCOUNT_ID, SEED_EXAMPLES } from "./seed-examples";

/** The parts of a JSON Schema (OpenAPI 3.1) the builder reads. */
interface Schema {
  $ref?: string;
  type?: string | string[];
  example?: unknown;
  examples?: unknown[];
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minimum?: number;
  minLength?: number;
  minItems?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}

/** A media type object (`content["application/json"]`). */
interface MediaType {
  schema?: Schema;
  example?: unknown;
  examples?: unknown;
}

/** The slice of an OpenAPI 3.1 document this module reads and writes. */
export interface OpenApiDocument {
  paths?: object;
  components?: { schemas?: object };
}

/** What to build: a request body (required fields only) or a response (every field). */
type Side = "request" | "response";

/** Nesting depth past which a recursive schema is cut short (an empty object or list). */
const MAX_DEPTH = 8;

const FORMAT_EXAMPLES: Record<string, string> = {
  email: "alice@example.com",
  uri: "https://tickets.example.com/hooks/tunnelplane",
  "date-time": "2026-12-03T09:00:00.000Z",
  uuid: "9f0c3f5e-8a9b-4b7e-9a55-0f0b1c2d3e4f",
  ipv4: "10.128.0.7",
  ipv6: "2001:db8::7",
};

function typeOf(schema: Schema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
}

/** A string for a field without an example: by format, then by the field's name. */
function stringExample(schema: Schema, key: string | undefined): string {
  const fromFormat = schema.format === undefined ? undefined : FORMAT_EXAMPLES[schema.format];
  if (fromFormat !== undefined) {
    return fromFormat;
  }
  if (key === "account_id") {
    return SEED_ACCOUNT_ID;
  }
  if (key?.endsWith("_at")) {
    return FORMAT_EXAMPLES["date-time"] ?? "";
  }
  if (key === "id" || key?.endsWith("_id")) {
    return FORMAT_EXAMPLES.uuid ?? "";
  }
  return (key ?? "example").padEnd(schema.minLength ?? 0, "x");
}

/** The seed object of a component, or of the object a `<Name>WriteResult` wraps. */
function seedOf(name: string): unknown {
  const seed = SEED_EXAMPLES[name];
  if (seed !== undefined) {
    return seed;
  }
  const written = name.endsWith("WriteResult")
    ? SEED_EXAMPLES[name.slice(0, -"WriteResult".length)]
    : undefined;
  return written === undefined ? undefined : { ...(written as object), warnings: [] };
}

/**
 * Builds one example value for `schema`; `$ref`s resolve against `components`. `key` is the name
 * of the property the schema describes, if any.
 */
export function exampleOf(
  schema: Schema,
  components: Record<string, Schema>,
  side: Side,
  depth = 0,
  key?: string,
): unknown {
  if (schema.$ref !== undefined) {
    const name = schema.$ref.replace("#/components/schemas/", "");
    const seed = seedOf(name);
    if (seed !== undefined) {
      return seed;
    }
    const target = components[name];
    return target === undefined ? {} : exampleOf(target, components, side, depth, key);
  }
  if (schema.example !== undefined) {
    return schema.example;
  }
  if (schema.examples?.[0] !== undefined) {
    return schema.examples[0];
  }
  if (schema.const !== undefined) {
    return schema.const;
  }
  if (schema.enum?.[0] !== undefined) {
    return schema.enum[0];
  }
  if (schema.default !== undefined) {
    return schema.default;
  }
  const choice = schema.anyOf ?? schema.oneOf;
  if (choice !== undefined) {
    const first = choice.find((s) => s.type !== "null") ?? choice[0];
    return first === undefined ? null : exampleOf(first, components, side, depth, key);
  }
  if (schema.allOf !== undefined) {
    return Object.assign(
      {},
      ...schema.allOf.map((s) => exampleOf(s, components, side, depth) as object),
    );
  }
  if (depth > MAX_DEPTH) {
    return typeOf(schema) === "array" ? [] : null;
  }
  switch (typeOf(schema)) {
    case "object": {
      const required = new Set(schema.required ?? []);
      const entries = Object.entries(schema.properties ?? {}).filter(
        ([key]) => side === "response" || required.has(key),
      );
      return Object.fromEntries(
        entries.map(([name, s]) => [name, exampleOf(s, components, side, depth + 1, name)]),
      );
    }
    case "array": {
      const item =
        schema.items === undefined ? null : exampleOf(schema.items, components, side, depth + 1);
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => item);
    }
    case "string":
      return stringExample(schema, key);
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return {};
  }
}

/**
 * Adds `example` to every JSON media type of every request body and response that has neither
 * `example` nor `examples`. Mutates and returns `document`.
 */
export function addExamples<D extends OpenApiDocument>(document: D): D {
  const components = (document.components?.schemas ?? {}) as Record<string, Schema>;
  const fill = (content: Record<string, MediaType> | undefined, side: Side) => {
    for (const media of Object.values(content ?? {})) {
      if (media.example === undefined && media.examples === undefined && media.schema) {
        media.example = exampleOf(media.schema, components, side);
      }
    }
  };
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item) as {
      requestBody?: { content?: Record<string, MediaType> };
      responses?: Record<string, { content?: Record<string, MediaType> }>;
    }[]) {
      fill(operation.requestBody?.content, "request");
      for (const response of Object.values(operation.responses ?? {})) {
        fill(response.content, "response");
      }
    }
  }
  return document;
}

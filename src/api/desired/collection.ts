/**
 * The REST collection every desired kind shares: list, create, get, replace (PUT) and delete, with
 * cursor paging, ETag/If-Match, 409 on a taken natural key and an audit entry per write. A kind
 * supplies its schemas and its mapping to and from the domain spec.
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createDb, type Db, isUniqueViolation } from "../../db/client";
import {
  type Actor,
  deleteObject,
  getObject,
  insertObject,
  listObjects,
  type StoredObject,
  updateObject,
} from "../../db/desired-objects.repo";
import { toPage } from "../../db/pagination";
import { type Kind, newObject, type SpecByKind } from "../../domain/model";
import { type DesiredChange, guardAssertions } from "../assertions/guard";
import { type AppEnv, actorOf } from "../context";
import {
  AccountParams,
  IfMatchHeaders,
  ObjectParams,
  PageQuery,
  pageOf,
  problemResponses,
  security,
  WarningSchema,
} from "../contract";
import { checkIfMatch, etagOf } from "../middleware/etag";
import { nounOf, withArticle } from "../openapi/wording";
import { cursorPosition } from "../paging";
import { ProblemError, type ProblemSlug } from "../problem";
import { enforceObjectQuota, enforceSpecQuotas } from "../quotas";
import { requireAccount } from "./account-guard";
import { objectEnvelope, toEnvelope } from "./object.schemas";

/** Another object a write changes with it (e.g. a policy renumbered to make room). */
export interface CompanionWrite<K extends Kind = Kind> {
  current: StoredObject<K>;
  spec: SpecByKind[K];
  naturalKey: string | null;
}

/** What a handler knows when it maps a request body to a spec. */
export interface WriteContext {
  db: Db;
  accountId: string;
  /** The id being written (new for a create). */
  id: string;
  /**
   * Writes to other objects `toSpec` asks for, applied in order before the object itself (each
   * with its own version check and audit entry) once the assertion guard has passed.
   */
  companions: CompanionWrite[];
}

/** A warning returned with a write (the write still happened). */
export interface WriteWarning {
  code: string;
  message: string;
}

/** How one kind plugs into the collection. */
export interface CollectionDefinition<
  K extends Kind,
  I extends z.ZodTypeAny,
  O extends z.ZodRawShape,
> {
  kind: K;
  /** Path segment under /v1/accounts/{account_id}/, e.g. `routes`. */
  path: string;
  tag: string;
  /** PascalCase names for operation ids and components: `TunnelRoute`, `TunnelRoutes`. */
  singular: string;
  plural: string;
  /** Body of POST and PUT. */
  input: I;
  /** Spec fields on the wire (envelope fields are added). */
  output: O;
  /**
   * Validates references and domain rules and returns the spec.
   * @throws ProblemError (422 with pointers, 404 never: a missing reference is a 422).
   */
  toSpec(body: z.output<I>, ctx: WriteContext): Promise<SpecByKind[K]>;
  toWire(spec: SpecByKind[K]): z.input<z.ZodObject<O>>;
  /** Uniqueness key within the account and kind, or null. */
  naturalKey(spec: SpecByKind[K]): string | null;
  /** The 409 problem for a taken natural key. */
  conflict: { slug: ProblemSlug; detail: (spec: SpecByKind[K]) => string };
  /** Warnings about an accepted spec (overlaps, unanchored regexes...). */
  warnings?(spec: SpecByKind[K], ctx: WriteContext): Promise<WriteWarning[]>;
  /** True for kinds whose writes cannot break an assertion (assertions themselves). */
  unguarded?: boolean;
  /** Refuses a delete while other objects depend on this one. */
  checkDelete?(object: StoredObject<K>, ctx: WriteContext): Promise<void>;
}

/** The companion writes of a request as desired-state changes. */
export function companionChanges(ctx: WriteContext): DesiredChange[] {
  return ctx.companions.map((w) => ({ op: "put", object: { ...w.current, spec: w.spec } }));
}

/**
 * Applies the companion writes in order.
 * @throws ProblemError version-mismatch (412) when one of them changed since it was read.
 */
export async function writeCompanions(ctx: WriteContext, actor: Actor): Promise<void> {
  for (const w of ctx.companions) {
    const written = await updateObject(
      ctx.db,
      ctx.accountId,
      w.current,
      { spec: w.spec, naturalKey: w.naturalKey },
      actor,
      Date.now(),
    );
    if (written === undefined) {
      throw new ProblemError(
        "version-mismatch",
        `${w.current.kind} ${w.current.id} changed while this write was prepared; retry.`,
      );
    }
  }
}

/**
 * The generic collection cannot prove to the type checker that a kind's `toWire` output matches
 * the response schema built from its `output` shape; each kind's definition types that pairing.
 */
function wire(body: unknown): never {
  return body as never;
}

/** Mounts the five endpoints of a kind on `router`. */
export function mountCollection<K extends Kind, I extends z.ZodTypeAny, O extends z.ZodRawShape>(
  router: OpenAPIHono<AppEnv>,
  def: CollectionDefinition<K, I, O>,
): void {
  const Resource = z.object({ ...objectEnvelope, ...def.output }).openapi(def.singular);
  const WriteResult = Resource.extend({ warnings: z.array(WarningSchema) }).openapi(
    `${def.singular}WriteResult`,
  );
  const base = `/v1/accounts/{account_id}/${def.path}`;
  const tags = [def.tag];
  const json = <S extends z.ZodTypeAny>(schema: S, description: string) => ({
    description,
    content: { "application/json": { schema } },
  });
  // Typed as any schema: the kind re-types the parsed body through toSpec.
  const inputSchema: z.ZodType = def.input;
  const body = {
    body: { required: true, content: { "application/json": { schema: inputSchema } } },
  };
  const present = (object: StoredObject<K>) => ({
    ...toEnvelope(object),
    ...def.toWire(object.spec),
  });

  const list = createRoute({
    method: "get",
    path: base,
    operationId: `list${def.plural}`,
    tags,
    security,
    summary: `List ${nounOf(def.plural)}`,
    request: { params: AccountParams, query: PageQuery },
    responses: {
      200: json(pageOf(Resource, `${def.singular}Page`), "A page, oldest first"),
      ...problemResponses("not-found", "validation-failed"),
    },
  });
  const create = createRoute({
    method: "post",
    path: base,
    operationId: `create${def.singular}`,
    tags,
    security,
    summary: `Create ${withArticle(nounOf(def.singular))}`,
    request: { params: AccountParams, ...body },
    responses: {
      201: json(WriteResult, "Created; reconciled by the next run"),
      ...problemResponses("malformed-request", "not-found", def.conflict.slug, "validation-failed"),
    },
  });
  const get = createRoute({
    method: "get",
    path: `${base}/{id}`,
    operationId: `get${def.singular}`,
    tags,
    security,
    summary: `Get ${withArticle(nounOf(def.singular))}`,
    request: { params: ObjectParams },
    responses: {
      200: json(Resource, "The object; ETag is its version"),
      ...problemResponses("not-found", "validation-failed"),
    },
  });
  const replace = createRoute({
    method: "put",
    path: `${base}/{id}`,
    operationId: `replace${def.singular}`,
    tags,
    security,
    summary: `Replace ${withArticle(nounOf(def.singular))}`,
    request: { params: ObjectParams, headers: IfMatchHeaders, ...body },
    responses: {
      200: json(WriteResult, "Replaced"),
      ...problemResponses(
        "malformed-request",
        "not-found",
        def.conflict.slug,
        "version-mismatch",
        "validation-failed",
      ),
    },
  });
  const remove = createRoute({
    method: "delete",
    path: `${base}/{id}`,
    operationId: `delete${def.singular}`,
    tags,
    security,
    summary: `Delete ${withArticle(nounOf(def.singular))}`,
    request: { params: ObjectParams, headers: IfMatchHeaders },
    responses: {
      204: { description: "Deleted; the Cloudflare object goes with the next run" },
      ...problemResponses("not-found", "in-use", "version-mismatch", "validation-failed"),
    },
  });

  const guard = (db: Db, accountId: string, changes: DesiredChange[]) =>
    def.unguarded === true ? Promise.resolve() : guardAssertions(db, accountId, changes);
  const findOr404 = async (c: Context<AppEnv>, db: Db, accountId: string, id: string) => {
    const object = await getObject(db, accountId, def.kind, id);
    if (object === undefined) {
      throw new ProblemError("not-found", `No ${def.singular} ${id} in account ${accountId}.`);
    }
    c.header("ETag", etagOf(object.version));
    return object;
  };
  const write = async (
    run: () => Promise<StoredObject<K> | undefined>,
    spec: SpecByKind[K],
    ctx: WriteContext,
    actor: Actor,
  ) => {
    try {
      await writeCompanions(ctx, actor);
      return await run();
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ProblemError(def.conflict.slug, def.conflict.detail(spec));
      }
      throw error;
    }
  };

  router.openapi(list, async (c) => {
    const { account_id } = c.req.valid("param");
    const { cursor, limit } = c.req.valid("query");
    const db = createDb(c.env.DB);
    await requireAccount(db, account_id);
    const after = cursorPosition(cursor);
    const rows = await listObjects(db, account_id, def.kind, after, limit);
    const page = toPage(rows, limit, (o) => ({ atMs: o.createdAtMs, id: o.id }));
    return c.json(wire({ items: page.items.map(present), next_cursor: page.nextCursor }), 200);
  });

  router.openapi(create, async (c) => {
    const { account_id } = c.req.valid("param");
    const db = createDb(c.env.DB);
    const account = await requireAccount(db, account_id);
    await enforceObjectQuota(db, account, def.kind);
    const ctx: WriteContext = {
      db,
      accountId: account_id,
      id: crypto.randomUUID(),
      companions: [],
    };
    const spec = await def.toSpec(c.req.valid("json") as z.output<I>, ctx);
    await enforceSpecQuotas(db, account, def.kind, ctx.id, spec);
    const input = { kind: def.kind, id: ctx.id, spec, naturalKey: def.naturalKey(spec) };
    await guard(db, account_id, [
      ...companionChanges(ctx),
      { op: "put", object: newObject(def.kind, ctx.id, spec) },
    ]);
    const actor = actorOf(c);
    const created = await write(
      () => insertObject(db, account_id, input, actor, Date.now()),
      spec,
      ctx,
      actor,
    );
    if (created === undefined) {
      throw new Error("insert returned nothing");
    }
    const warnings = (await def.warnings?.(spec, ctx)) ?? [];
    c.header("ETag", etagOf(created.version));
    c.header("Location", `/v1/accounts/${account_id}/${def.path}/${created.id}`);
    return c.json(wire({ ...present(created), warnings }), 201);
  });

  router.openapi(get, async (c) => {
    const { account_id, id } = c.req.valid("param");
    const db = createDb(c.env.DB);
    await requireAccount(db, account_id);
    return c.json(wire(present(await findOr404(c, db, account_id, id))), 200);
  });

  router.openapi(replace, async (c) => {
    const { account_id, id } = c.req.valid("param");
    const db = createDb(c.env.DB);
    const account = await requireAccount(db, account_id);
    const current = await findOr404(c, db, account_id, id);
    checkIfMatch(c.req.valid("header")["if-match"], current.version);
    const ctx: WriteContext = { db, accountId: account_id, id, companions: [] };
    const spec = await def.toSpec(c.req.valid("json") as z.output<I>, ctx);
    await enforceSpecQuotas(db, account, def.kind, id, spec);
    await guard(db, account_id, [
      ...companionChanges(ctx),
      { op: "put", object: { ...current, spec } },
    ]);
    const actor = actorOf(c);
    const updated = await write(
      () =>
        updateObject(
          db,
          account_id,
          current,
          { spec, naturalKey: def.naturalKey(spec) },
          actor,
          Date.now(),
        ),
      spec,
      ctx,
      actor,
    );
    if (updated === undefined) {
      throw new ProblemError(
        "version-mismatch",
        "The object changed while it was being written; re-read and retry.",
      );
    }
    const warnings = (await def.warnings?.(spec, ctx)) ?? [];
    c.header("ETag", etagOf(updated.version));
    return c.json(wire({ ...present(updated), warnings }), 200);
  });

  router.openapi(remove, async (c) => {
    const { account_id, id } = c.req.valid("param");
    const db = createDb(c.env.DB);
    await requireAccount(db, account_id);
    const current = await findOr404(c, db, account_id, id);
    checkIfMatch(c.req.valid("header")["if-match"], current.version);
    await def.checkDelete?.(current, { db, accountId: account_id, id, companions: [] });
    await guard(db, account_id, [{ op: "delete", kind: def.kind, id }]);
    if (!(await deleteObject(db, account_id, current, actorOf(c), Date.now()))) {
      throw new ProblemError(
        "version-mismatch",
        "The object changed while it was being deleted; re-read and retry.",
      );
    }
    return c.body(null, 204);
  });
}

/**
 * A desired object that exists once per account (the default device profile's split tunnel,
 * the proxy settings): GET and PUT at a fixed path, PUT creating it the first time.
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { createDb, type Db } from "../../db/client";
import {
  getObject,
  insertObject,
  type StoredObject,
  updateObject,
} from "../../db/desired-objects.repo";
import type { Kind, SpecByKind } from "../../domain/model";
import { newObject } from "../../domain/model";
import { guardAssertions } from "../assertions/guard";
import { type AppEnv, actorOf } from "../context";
import {
  AccountParams,
  IfMatchHeaders,
  problemResponses,
  security,
  WarningSchema,
} from "../contract";
import { checkIfMatch, etagOf } from "../middleware/etag";
import { ProblemError } from "../problem";
import { enforceSpecQuotas } from "../quotas";
import { requireAccount } from "./account-guard";
import type { WriteContext, WriteWarning } from "./collection";
import { objectEnvelope, toEnvelope } from "./object.schemas";

/** How one singleton kind plugs in. */
export interface SingletonDefinition<K extends Kind, O extends z.ZodRawShape> {
  kind: K;
  /** The object's fixed id. */
  id: string;
  /** Path under /v1/accounts/{account_id}/. */
  path: string;
  tag: string;
  /** PascalCase name: `ProxySettings`. */
  name: string;
  input: z.ZodType;
  output: O;
  /** @throws ProblemError for domain rule violations (422). */
  toSpec(body: unknown, ctx: WriteContext): Promise<SpecByKind[K]>;
  /** The wire form; may read other objects (e.g. routes for an effective list). */
  present(spec: SpecByKind[K], ctx: WriteContext): Promise<z.input<z.ZodObject<O>>>;
  warnings?(spec: SpecByKind[K], ctx: WriteContext): Promise<WriteWarning[]>;
}

/** Mounts GET and PUT for a singleton kind. */
export function mountSingleton<K extends Kind, O extends z.ZodRawShape>(
  router: OpenAPIHono<AppEnv>,
  def: SingletonDefinition<K, O>,
): void {
  const Resource = z.object({ ...objectEnvelope, ...def.output }).openapi(def.name);
  const WriteResult = Resource.extend({ warnings: z.array(WarningSchema) }).openapi(
    `${def.name}WriteResult`,
  );
  const path = `/v1/accounts/{account_id}/${def.path}`;
  const tags = [def.tag];
  const json = (schema: z.ZodType, description: string) => ({
    description,
    content: { "application/json": { schema } },
  });

  const get = createRoute({
    method: "get",
    path,
    operationId: `get${def.name}`,
    tags,
    security,
    summary: `Get the ${def.tag.toLowerCase()}`,
    request: { params: AccountParams },
    responses: {
      200: json(Resource, "The desired value; ETag is its version"),
      ...problemResponses("not-found", "validation-failed"),
    },
  });
  const put = createRoute({
    method: "put",
    path,
    operationId: `put${def.name}`,
    tags,
    security,
    summary: `Set the ${def.tag.toLowerCase()}`,
    request: {
      params: AccountParams,
      headers: IfMatchHeaders,
      body: { required: true, content: { "application/json": { schema: def.input } } },
    },
    responses: {
      200: json(WriteResult, "Set; reconciled by the next run"),
      ...problemResponses(
        "malformed-request",
        "not-found",
        "version-mismatch",
        "validation-failed",
      ),
    },
  });
  const present = async (object: StoredObject<K>, ctx: WriteContext) => ({
    ...toEnvelope(object),
    ...(await def.present(object.spec, ctx)),
  });
  const context = (db: Db, accountId: string): WriteContext => ({
    db,
    accountId,
    id: def.id,
    companions: [],
  });

  router.openapi(get, async (c) => {
    const { account_id } = c.req.valid("param");
    const db = createDb(c.env.DB);
    await requireAccount(db, account_id);
    const object = await getObject(db, account_id, def.kind, def.id);
    if (object === undefined) {
      throw new ProblemError(
        "not-found",
        `No ${def.tag.toLowerCase()} set for account ${account_id}; PUT one.`,
      );
    }
    c.header("ETag", etagOf(object.version));
    return c.json((await present(object, context(db, account_id))) as never, 200);
  });

  router.openapi(put, async (c) => {
    const { account_id } = c.req.valid("param");
    const db = createDb(c.env.DB);
    const account = await requireAccount(db, account_id);
    const ctx = context(db, account_id);
    const spec = await def.toSpec(c.req.valid("json"), ctx);
    await enforceSpecQuotas(db, account, def.kind, def.id, spec);
    const current = await getObject(db, account_id, def.kind, def.id);
    await guardAssertions(db, account_id, [
      {
        op: "put",
        object: current === undefined ? newObject(def.kind, def.id, spec) : { ...current, spec },
      },
    ]);
    const actor = actorOf(c);
    let written: StoredObject<K> | undefined;
    if (current === undefined) {
      written = await insertObject(
        db,
        account_id,
        { kind: def.kind, id: def.id, spec, naturalKey: null },
        actor,
        Date.now(),
      );
    } else {
      checkIfMatch(c.req.valid("header")["if-match"], current.version);
      written = await updateObject(
        db,
        account_id,
        current,
        { spec, naturalKey: null },
        actor,
        Date.now(),
      );
    }
    if (written === undefined) {
      throw new ProblemError(
        "version-mismatch",
        "The object changed while it was being written; re-read and retry.",
      );
    }
    const warnings = (await def.warnings?.(spec, ctx)) ?? [];
    c.header("ETag", etagOf(written.version));
    return c.json({ ...(await present(written, ctx)), warnings } as never, 200);
  });
}

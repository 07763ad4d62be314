/**
 * The shape every managed kind's adapter has (crossplane-runtime's ExternalClient): it observes
 * its kind with its own list paging and normalisation, and writes one action of its kind. The
 * registry (registry.ts) holds one adapter per kind, so adding a kind touches its file and the
 * registry only.
 */
import type Cloudflare from "cloudflare";
import type { DesiredState, Kind, ObservedState } from "../domain/model";
import type { CreateAction, DeleteAction, UpdateAction } from "../domain/plan/actions";
import type { ApplyContext } from "./apply-context";

/** Kinds with Cloudflare objects of their own (private apps and assertions have none). */
export type ManagedKind = Exclude<Kind, "private_app" | "assertion">;

/** One managed kind's Cloudflare side. */
export interface KindAdapter<K extends ManagedKind> {
  kind: K;
  /**
   * Reads this kind's objects into their part of the observed state: every page, normalised to
   * the Observed* model. May return nothing when the desired state gives no reason to read (an
   * account without enrollment rules), or when another kind's list already carries the objects.
   * `wide` (explain and import on what Cloudflare holds now) also reads route kinds the desired
   * state holds none of, so an unmanaged hostname route can be explained or adopted.
   * @throws whatever the SDK throws; callers classify it with toUpstreamError.
   */
  observe(
    client: Cloudflare,
    accountId: string,
    desired: DesiredState,
    wide?: boolean,
  ): Promise<ObservedPart>;
  /** Creates the object; returns its Cloudflare id. @throws whatever the SDK throws. */
  create(ctx: ApplyContext, action: CreateAction<K>): Promise<string>;
  /** Changes the object; returns its Cloudflare id. @throws whatever the SDK throws. */
  update(ctx: ApplyContext, action: UpdateAction<K>): Promise<string>;
  /** Deletes the object (or refuses: singletons are never deleted); returns its Cloudflare id. */
  delete(ctx: ApplyContext, action: DeleteAction<K>): Promise<string>;
}

/** The fields of ObservedState one adapter fills in. */
export type ObservedPart = Partial<ObservedState>;

/** What an adapter needs to apply one action: the client and id resolution for references. */
import type Cloudflare from "cloudflare";
import type { Kind } from "../domain/model";

export interface ApplyContext {
  client: Cloudflare;
  accountId: string;
  /**
   * The Cloudflare id of the tunnelplane object `key` of `kind`, known from observation or from a
   * create earlier in the same run.
   * @throws Error when the referenced object has no Cloudflare id yet (its create failed).
   */
  resolve(kind: Kind, key: string): string;
  /** The account's default virtual network as observed, or undefined when there is none. */
  defaultVirtualNetworkId: string | undefined;
}

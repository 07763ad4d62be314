/**
 * Reading a page-numbered Cloudflare list whole: pages as large as the endpoint allows, stopping
 * on `total_pages` / `total_count` when the answer has them (no extra empty page), on a short
 * page otherwise. Some lists ignore `page` and answer the first page again (reported for
 * `GET /accounts`; the Access lists document no `page` at all): an item already seen is never
 * kept twice, and a page that brings nothing new ends the listing with a RepeatedPageError
 * instead of spending the run's budget on the same page.
 */

/** One page as the SDK returns it; Cloudflare's totals are not in the SDK's type. */
interface Page<Item> {
  result: Item[];
  result_info?: { total_pages?: number; total_count?: number } | object;
}

/** Thrown when a page brings no item not seen on an earlier page (a list that does not advance). */
export class RepeatedPageError extends Error {
  constructor(
    /** The list, e.g. `teamnet/routes`. */
    readonly list: string,
    /** The 1-based page that repeated earlier ones. */
    readonly page: number,
  ) {
    super(
      `Cloudflare's ${list} list answered page ${page} with items of earlier pages (it ignores \`page\`); listing stopped after ${page} calls, the list could not be read whole`,
    );
    this.name = "RepeatedPageError";
  }
}

function totalsOf(info: Page<unknown>["result_info"]): {
  totalPages: number | undefined;
  totalCount: number | undefined;
} {
  const { total_pages, total_count } = (info ?? {}) as {
    total_pages?: unknown;
    total_count?: unknown;
  };
  return {
    totalPages: typeof total_pages === "number" ? total_pages : undefined,
    totalCount: typeof total_count === "number" ? total_count : undefined,
  };
}

/**
 * Every item of a list once, page 1 first.
 * @param list the list's path after the account (`teamnet/routes`), for the error.
 * @param fetchPage asks for one page (1-based) of `perPage` items.
 * @param idOf an item's id, to notice an item seen before (items without one are all kept).
 * @throws RepeatedPageError, or whatever fetchPage throws.
 */
export async function listAllPages<Item>(
  list: string,
  perPage: number,
  fetchPage: (page: number) => Promise<Page<Item>>,
  idOf: (item: Item) => string | undefined,
): Promise<Item[]> {
  const items: Item[] = [];
  const seen = new Set<string>();
  for (let page = 1; ; page++) {
    const answer = await fetchPage(page);
    const fresh = answer.result.filter((item) => {
      const id = idOf(item);
      return id === undefined || !seen.has(id);
    });
    if (page > 1 && answer.result.length > 0 && fresh.length === 0) {
      throw new RepeatedPageError(list, page);
    }
    for (const item of fresh) {
      const id = idOf(item);
      if (id !== undefined) {
        seen.add(id);
      }
    }
    items.push(...fresh);
    const { totalPages, totalCount } = totalsOf(answer.result_info);
    const done =
      totalPages !== undefined
        ? page >= totalPages
        : totalCount !== undefined
          ? items.length >= totalCount || answer.result.length === 0
          : answer.result.length < perPage;
    if (done) {
      return items;
    }
  }
}

/**
 * True for a soft-deleted object (tunnel, route, virtual network): Cloudflare keeps it with a
 * `deleted_at`, answers GET of it with 200, and may list it next to a live one of the same name.
 */
export function isDeleted(item: { deleted_at?: string | null }): boolean {
  return item.deleted_at !== undefined && item.deleted_at !== null && item.deleted_at !== "";
}

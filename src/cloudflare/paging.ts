/**
 * Reading a page-numbered Cloudflare list whole: pages as large as the endpoint allows, stopping
 * on `total_pages` / `total_count` when the answer has them (no extra empty page), on a short
 * page otherwise, and failing on a page that repeats the one before instead of looping on it.
 */

/** One page as the SDK returns it; Cloudflare's totals are not in the SDK's type. */
interface Page<Item> {
  result: Item[];
  result_info?: { total_pages?: number; total_count?: number } | object;
}

/** Thrown when a page repeats the previous one (a list that does not advance). */
export class RepeatedPageError extends Error {
  constructor(page: number) {
    super(`page ${page} of a Cloudflare list repeats page ${page - 1}; listing stopped`);
    this.name = "RepeatedPageError";
  }
}

function pagesOf(info: Page<unknown>["result_info"], perPage: number): number | undefined {
  if (info === undefined) {
    return undefined;
  }
  const { total_pages, total_count } = info as { total_pages?: unknown; total_count?: unknown };
  if (typeof total_pages === "number") {
    return total_pages;
  }
  return typeof total_count === "number" ? Math.ceil(total_count / perPage) : undefined;
}

/**
 * Every item of a list, page 1 first.
 * @param fetchPage asks for one page (1-based) of `perPage` items.
 * @param idOf an item's id, to notice a repeated page.
 * @throws RepeatedPageError, or whatever fetchPage throws.
 */
export async function listAllPages<Item>(
  perPage: number,
  fetchPage: (page: number) => Promise<Page<Item>>,
  idOf: (item: Item) => string | undefined,
): Promise<Item[]> {
  const items: Item[] = [];
  let previousIds = "";
  for (let page = 1; ; page++) {
    const answer = await fetchPage(page);
    const ids = answer.result.map(idOf).join(",");
    if (page > 1 && answer.result.length > 0 && ids === previousIds) {
      throw new RepeatedPageError(page);
    }
    previousIds = ids;
    items.push(...answer.result);
    const totalPages = pagesOf(answer.result_info, perPage);
    if (totalPages === undefined ? answer.result.length < perPage : page >= totalPages) {
      return items;
    }
  }
}

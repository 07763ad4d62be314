/**
 * English for generated operation summaries: a component name such as `TunnelRoute` becomes
 * "a tunnel route", so generic routers read as a person would write them.
 */

/** `TunnelRoute` -> `tunnel route`; acronyms stay whole (`APIKey` -> `API key`). */
export function nounOf(pascalName: string): string {
  return pascalName
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(" ")
    .map((word) => (/^[A-Z][a-z]/.test(word) ? word.toLowerCase() : word))
    .join(" ");
}

/**
 * The noun with its indefinite article, chosen by the first letter's sound as far as spelling
 * tells it (`an assertion`, `a tunnel route`); acronyms read letter by letter (`an API key`).
 */
export function withArticle(noun: string): string {
  const first = noun.split(" ")[0] ?? "";
  const acronym = /^[A-Z]{2,}/.test(first);
  const vowelSound = acronym ? /^[AEFHILMNORSX]/.test(first) : /^[aeiou]/i.test(first);
  return `${vowelSound ? "an" : "a"} ${noun}`;
}

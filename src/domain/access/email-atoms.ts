/**
 * The addresses the email selectors tell apart, each shown by a witness (README "Access
 * engine"): each named email is its own witness, so every regex is tested on the address itself
 * (`alice@example.com` is told apart from the rest of the regex's domain); a regex's other
 * addresses are witnessed by an address built from the pattern (`user@example.com` for
 * `.*@example.com`) and its look-alike (`user@example.com.lookalike.invalid`, kept when the regex
 * still matches it), on which every other regex is tested too; an address holding a `contains`
 * text; and an address no selector names. An address fixes its domain and which regexes match
 * it, so these never combine with each other, only with groups and posture checks. Only when no
 * address can be built is a regex's class assumed to match no other regex.
 */

import { emailMatches } from "../policies/email-regex";
import { NOBODY, type Selectors, type Witness } from "./selectors";

/** One kind of address: its label (`email:…`, `regex:…`, `lookalike:…`, `contains:…`, or null for an unnamed one) and witness. */
export interface EmailAtom {
  label: string | null;
  witness: Witness;
}

/** Appended to a regex's sample address to find what an unanchored regex also matches. */
const LOOKALIKE_SUFFIX = ".lookalike.invalid";

/**
 * An address the regex matches, for the common shapes (`.*@example.com`,
 * `^[^@]+@example\.com$`, `(?:…)|…`): anchors dropped, loose local parts replaced by `user`,
 * escapes resolved. Null when the guess does not match.
 */
export function sampleEmail(pattern: string): string | null {
  const first = pattern.replace(/^\(\?:(.*?)\)\|.*$/, "$1");
  const guess = first
    .replace(/^\^|\$$/g, "")
    .replace(/\\A|\\z/g, "")
    .replace(/\(\?:([^|)]*)(\|[^)]*)?\)/g, "$1")
    .replace(/\[\^@\][+*]|\.\*|\.\+|\[[^\]]*\][+*]/g, "user")
    .replace(/\\(.)/g, "$1");
  return emailMatches(pattern, guess) ? guess : null;
}

function regexAtoms(regex: string, named: ReadonlySet<string>): EmailAtom[] {
  const sample = sampleEmail(regex);
  if (sample === null || named.has(sample)) {
    return [{ label: `regex:${regex}`, witness: { ...NOBODY, regex } }];
  }
  const lookalike = `${sample}${LOOKALIKE_SUFFIX}`;
  return [
    { label: `regex:${regex}`, witness: { ...NOBODY, email: sample } },
    ...(emailMatches(regex, lookalike)
      ? [{ label: `lookalike:${regex}`, witness: { ...NOBODY, email: lookalike } }]
      : []),
  ];
}

/** The address kinds of `selectors`, in the order email, regex, contains (each sorted), unnamed. */
export function emailAtoms(selectors: Selectors): EmailAtom[] {
  const sorted = (set: Set<string>) => [...set].sort();
  return [
    ...sorted(selectors.emails).map((email) => ({
      label: `email:${email}`,
      witness: { ...NOBODY, email },
    })),
    ...sorted(selectors.regexes).flatMap((regex) => regexAtoms(regex, selectors.emails)),
    ...sorted(selectors.contains).map((contains) => ({
      label: `contains:${contains}`,
      witness: { ...NOBODY, contains },
    })),
    { label: null, witness: NOBODY },
  ];
}

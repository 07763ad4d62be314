/**
 * The size a regex grows to once its counted repetitions are unrolled, estimated from the text in
 * one linear scan, before anything is compiled. RE2-class engines (re2js here, Rust's regex at
 * Gateway) compile `x{n}` into n copies of `x`: a 1,022-character pattern of `a{1000}` repeated
 * costs re2js over a second and hundreds of MB, so the size is bounded before compiling.
 */

/**
 * Largest expanded size accepted, in atoms (literals, classes, `.`, escapes, `|`) after unrolling
 * counted repetitions. An email has at most 254 characters, and a strict email pattern such as
 * `^[^@]{1,64}@(?:[a-z0-9-]{1,63}\.){1,10}[a-z]{2,63}$` is 780; re2js compiles a pattern at
 * this bound in about 30 ms, where `(ab|cd){1000}` repeated to 1,014 characters takes 2.4 s
 * (`bench/hostile.bench.ts`).
 */
export const MAX_REGEX_EXPANDED_SIZE = 1_000;

/** Deepest group nesting scanned; re2js refuses deeper patterns anyway (its limit is 1,000). */
const MAX_NESTING = 1_000;

/** One open group: the size of its finished alternatives and of the current one. */
interface Frame {
  /** Largest finished alternative so far, in atoms; alternatives all compile, so they add up. */
  done: number;
  /** Atoms of the current alternative. */
  current: number;
  /** Size of the last atom or group of the current alternative, which a quantifier multiplies. */
  last: number;
}

/** A counted repetition `{n}`, `{n,}` or `{n,m}` at `index`: its multiplier and end, or undefined. */
function countedRepetition(
  pattern: string,
  index: number,
): { multiplier: number; end: number } | undefined {
  const match = /^\{(\d{1,6})(,(\d{0,6}))?\}/.exec(pattern.slice(index, index + 16));
  if (match === null) {
    return undefined;
  }
  const min = Number(match[1]);
  // `{n}` repeats n times, `{n,}` is n copies and a star, `{n,m}` m copies.
  const max = match[2] === undefined ? min : match[3] === "" ? min + 1 : Number(match[3]);
  return { multiplier: Math.max(min, max, 1), end: index + match[0].length };
}

/** Index just past the character class opening at `index` (`[...]`), escapes and `[:…:]` skipped. */
function classEnd(pattern: string, index: number): number {
  let i = index + 1;
  if (pattern.charAt(i) === "^") {
    i++;
  }
  if (pattern.charAt(i) === "]") {
    i++;
  }
  while (i < pattern.length) {
    const c = pattern.charAt(i);
    if (c === "\\") {
      i += 2;
    } else if (c === "[" && pattern.charAt(i + 1) === ":") {
      const close = pattern.indexOf(":]", i + 2);
      i = close < 0 ? i + 1 : close + 2;
    } else if (c === "]") {
      return i + 1;
    } else {
      i++;
    }
  }
  return i;
}

/**
 * The estimated expanded size of `pattern` in atoms: each literal, class, `.` or escape counts 1,
 * a group counts the sum of its alternatives, and a counted repetition multiplies what it repeats
 * by its largest count (`{n,}` by n + 1); `*`, `+`, `?` add nothing. Linear in the pattern's
 * length; stops early once past `limit` (returning a value above it). Malformed patterns get an
 * estimate too: the compiler refuses them afterwards.
 */
export function expandedRegexSize(pattern: string, limit = MAX_REGEX_EXPANDED_SIZE): number {
  const stack: Frame[] = [{ done: 0, current: 0, last: 0 }];
  const top = (): Frame => stack[stack.length - 1] as Frame;
  // Every atom is counted once, when it is read; groups and repetitions only re-weigh them.
  let total = 0;
  const addAtom = (size: number) => {
    const frame = top();
    frame.current += size;
    frame.last = size;
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern.charAt(i);
    if (c === "\\") {
      addAtom(1);
      total += 1;
      i += 2;
    } else if (c === "[") {
      addAtom(1);
      total += 1;
      i = classEnd(pattern, i);
    } else if (c === "(") {
      if (stack.length > MAX_NESTING) {
        return limit + 1;
      }
      stack.push({ done: 0, current: 0, last: 0 });
      i++;
    } else if (c === ")" && stack.length > 1) {
      const group = stack.pop() as Frame;
      addAtom(group.done + group.current);
      i++;
    } else if (c === "|") {
      // The alternation instruction itself costs about one atom.
      const frame = top();
      frame.done += frame.current + 1;
      total += 1;
      frame.current = 0;
      frame.last = 0;
      i++;
    } else if (c === "{" && countedRepetition(pattern, i) !== undefined) {
      const { multiplier, end } = countedRepetition(pattern, i) as {
        multiplier: number;
        end: number;
      };
      const frame = top();
      const grown = frame.last * multiplier;
      frame.current += grown - frame.last;
      total += grown - frame.last;
      frame.last = grown;
      i = end;
    } else if (c === "*" || c === "+" || c === "?") {
      i++;
    } else {
      addAtom(1);
      total += 1;
      i++;
    }
    if (total > limit) {
      return total;
    }
  }
  return total;
}

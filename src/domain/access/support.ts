/**
 * What a compiled condition can still do when only some dimensions are fixed: for each node the
 * set where it may be true (`possible`) and the set where it surely is (`certain`), in three-valued
 * logic. The engine uses it to skip regions no policy of interest can match, and to cut the
 * port and destination dimensions only where a policy that may match there draws a bound.
 */
import { type AddressRange, difference, intersection, union } from "../cidr/ranges";
import type { NetworkProtocol } from "../model";
import type { Condition } from "./compile";
import {
  complementIntervals,
  type Interval,
  intersectIntervals,
  intervalsContain,
  unionIntervals,
} from "./intervals";
import { ADDRESS_SPACE, PORT_SPACE } from "./space";

interface Algebra<S> {
  all: S;
  none: S;
  union(a: S, b: S): S;
  intersect(a: S, b: S): S;
  complement(a: S): S;
}

interface Bounds<S> {
  possible: S;
  certain: S;
}

type LeafBounds<S> = (leaf: Condition) => Bounds<S>;

function bounds<S>(c: Condition, alg: Algebra<S>, leaf: LeafBounds<S>): Bounds<S> {
  switch (c.kind) {
    case "and":
    case "or": {
      const parts = c.operands.map((o) => bounds(o, alg, leaf));
      const join = c.kind === "and" ? alg.intersect : alg.union;
      const start = c.kind === "and" ? alg.all : alg.none;
      return {
        possible: parts.reduce((acc, p) => join(acc, p.possible), start),
        certain: parts.reduce((acc, p) => join(acc, p.certain), start),
      };
    }
    case "xor":
      // Parity of partly known operands is rarely decidable; unknown is always sound.
      return { possible: alg.all, certain: alg.none };
    case "not": {
      const inner = bounds(c.operand, alg, leaf);
      return { possible: alg.complement(inner.certain), certain: alg.complement(inner.possible) };
    }
    default:
      return leaf(c);
  }
}

const BOOLEAN: Algebra<boolean> = {
  all: true,
  none: false,
  union: (a, b) => a || b,
  intersect: (a, b) => a && b,
  complement: (a) => !a,
};

const PORTS: Algebra<Interval[]> = {
  all: [PORT_SPACE],
  none: [],
  union: unionIntervals,
  intersect: intersectIntervals,
  complement: (a) => complementIntervals(a, PORT_SPACE),
};

const ADDRESSES: Algebra<AddressRange[]> = {
  all: [...ADDRESS_SPACE],
  none: [],
  union: (a, b) => union(a, b),
  intersect: (a, b) => intersection(a, b),
  complement: (a) => difference(ADDRESS_SPACE, a),
};

function known<S>(alg: Algebra<S>, value: boolean): Bounds<S> {
  return value
    ? { possible: alg.all, certain: alg.all }
    : { possible: alg.none, certain: alg.none };
}

function unknown<S>(alg: Algebra<S>): Bounds<S> {
  return { possible: alg.all, certain: alg.none };
}

/** What is fixed: the protocol always; the port once its atom is chosen (null: no port). */
export interface Fixed {
  protocol: NetworkProtocol;
  /** Undefined while the port is open; null for ICMP; else an atom (every port in it alike). */
  port?: Interval | null;
  /** Truth of identity leaves when one person is asked about; undefined: unknown. */
  identity?: (leaf: number) => boolean | undefined;
}

function portKnown(set: readonly Interval[], port: Interval | null): boolean {
  return port !== null && intervalsContain(set, port.from);
}

function booleanLeaf(fixed: Fixed): LeafBounds<boolean> {
  return (c) => {
    switch (c.kind) {
      case "const":
        return known(BOOLEAN, c.value);
      case "protocol":
        return known(BOOLEAN, c.set.has(fixed.protocol));
      case "port":
        return fixed.port === undefined
          ? unknown(BOOLEAN)
          : known(BOOLEAN, portKnown(c.set, fixed.port));
      case "identity": {
        const truth = fixed.identity?.(c.leaf);
        return truth === undefined ? unknown(BOOLEAN) : known(BOOLEAN, truth);
      }
      default:
        return unknown(BOOLEAN);
    }
  };
}

/** Whether the condition may hold somewhere with `fixed` as given. */
export function mayHold(c: Condition, fixed: Fixed): boolean {
  return bounds(c, BOOLEAN, booleanLeaf(fixed)).possible;
}

/** The ports (TCP or UDP) where the condition may hold for `fixed.protocol`. */
export function possiblePorts(c: Condition, fixed: Fixed): Interval[] {
  const scalar = booleanLeaf(fixed);
  return bounds(c, PORTS, (leaf) => {
    if (leaf.kind === "port") {
      return { possible: leaf.set, certain: leaf.set };
    }
    const b = scalar(leaf);
    return b.possible === b.certain ? known(PORTS, b.possible) : unknown(PORTS);
  }).possible;
}

/** The destinations where the condition may hold for `fixed` (protocol and port chosen). */
export function possibleDestinations(c: Condition, fixed: Fixed): AddressRange[] {
  const scalar = booleanLeaf(fixed);
  return bounds(c, ADDRESSES, (leaf) => {
    if (leaf.kind === "dst") {
      return { possible: leaf.set, certain: leaf.set };
    }
    const b = scalar(leaf);
    return b.possible === b.certain ? known(ADDRESSES, b.possible) : unknown(ADDRESSES);
  }).possible;
}

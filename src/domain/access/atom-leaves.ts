/**
 * Which policies a connection atom leaves undecided: a policy whose traffic tests are false
 * throughout the atom takes no part there, whatever the identity, and neither do its identity
 * selectors. Questions over the whole space (policy usage) enumerate identity classes per set of
 * policies present at an atom, so selectors that never meet at one atom never combine.
 */
import type { AddressRange } from "../cidr/ranges";
import type { CompiledPolicy, Condition } from "./compile";
import type { Cell } from "./engine";
import { addressIn } from "./first-match";
import { intervalsContain } from "./intervals";

/** Three-valued truth: undefined where it depends on the identity. */
type Truth = boolean | undefined;

/** The truth of `c` at one atom of `cell`, undefined when it depends on the identity. */
function trafficTruth(c: Condition, cell: Cell, atom: AddressRange): Truth {
  switch (c.kind) {
    case "const":
      return c.value;
    case "protocol":
      return c.set.has(cell.protocol);
    case "port":
      return cell.port !== null && intervalsContain(c.set, cell.port.from);
    case "dst":
      return addressIn(c.set, atom);
    case "identity":
      return undefined;
    case "not": {
      const inner = trafficTruth(c.operand, cell, atom);
      return inner === undefined ? undefined : !inner;
    }
    case "and":
    case "or": {
      const absorbing = c.kind === "or";
      let unknown = false;
      for (const operand of c.operands) {
        const v = trafficTruth(operand, cell, atom);
        if (v === absorbing) {
          return absorbing;
        }
        unknown ||= v === undefined;
      }
      return unknown ? undefined : !absorbing;
    }
    case "xor": {
      let parity = false;
      for (const operand of c.operands) {
        const v = trafficTruth(operand, cell, atom);
        if (v === undefined) {
          return undefined;
        }
        parity = parity !== v;
      }
      return parity;
    }
  }
}

/** The policies of `list` (indices, kept in order) that may match somewhere in the atom. */
export function presentAt(
  policies: readonly CompiledPolicy[],
  list: readonly number[],
  cell: Cell,
  atom: AddressRange,
): number[] {
  return list.filter(
    (i) => trafficTruth((policies[i] as CompiledPolicy).condition, cell, atom) !== false,
  );
}

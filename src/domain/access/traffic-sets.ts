/**
 * Traffic tests as sets over their own dimension, following `evaluate.ts` test by test: an
 * address test is the set of destinations where it holds, a port test the set of ports, a
 * protocol test a truth per protocol.
 */
import { parseCidr } from "../cidr/parse";
import { type AddressRange, toAddressSet } from "../cidr/ranges";
import type { Predicate, SetItem } from "../policies/expression";
import { complementIntervals, type Interval, toIntervalSet } from "./intervals";
import { ADDRESS_SPACE, PORT_SPACE } from "./space";

function addressesOf(item: SetItem): AddressRange[] {
  if (item.type === "ip") {
    const network = parseCidr(item.cidr);
    return network.ok ? toAddressSet([network.value]) : [];
  }
  if (item.type === "ip-range") {
    const from = parseCidr(item.from);
    const to = parseCidr(item.to);
    if (!from.ok || !to.ok || to.value.address < from.value.address) {
      return [];
    }
    return [{ family: from.value.family, first: from.value.address, last: to.value.address }];
  }
  return [];
}

/** The destinations where an address test holds (normalised; `ne` holds for the other family too). */
export function dstSet(predicate: Predicate): AddressRange[] {
  switch (predicate.op) {
    case "eq":
      return addressesOf(predicate.value);
    case "ne":
      return complementAddresses(addressesOf(predicate.value));
    case "in":
      return toAddressSet(predicate.items.flatMap(addressesOf));
    default:
      return [];
  }
}

function complementAddresses(set: readonly AddressRange[]): AddressRange[] {
  const result: AddressRange[] = [];
  for (const space of ADDRESS_SPACE) {
    let next = space.first;
    for (const range of set) {
      if (range.family !== space.family) {
        continue;
      }
      if (range.first > next) {
        result.push({ family: space.family, first: next, last: range.first - 1n });
      }
      next = range.last + 1n;
    }
    if (next <= space.last) {
      result.push({ family: space.family, first: next, last: space.last });
    }
  }
  return result;
}

function portsOf(item: SetItem): Interval[] {
  if (item.type === "int") {
    return [{ from: item.value, to: item.value }];
  }
  return item.type === "int-range" ? [{ from: item.from, to: item.to }] : [];
}

/** The ports where a port test holds (normalised, inside 1..65535). */
export function portSet(predicate: Predicate): Interval[] {
  const clip = (items: Interval[]) =>
    toIntervalSet(
      items.map((i) => ({
        from: Math.max(i.from, PORT_SPACE.from),
        to: Math.min(i.to, PORT_SPACE.to),
      })),
    );
  switch (predicate.op) {
    case "eq":
      return clip(portsOf(predicate.value));
    case "ne":
      return complementIntervals(clip(portsOf(predicate.value)), PORT_SPACE);
    case "in":
      return clip(predicate.items.flatMap(portsOf));
    case "lt":
      return clip([{ from: PORT_SPACE.from, to: Math.ceil(predicate.value) - 1 }]);
    case "le":
      return clip([{ from: PORT_SPACE.from, to: Math.floor(predicate.value) }]);
    case "gt":
      return clip([{ from: Math.floor(predicate.value) + 1, to: PORT_SPACE.to }]);
    case "ge":
      return clip([{ from: Math.ceil(predicate.value), to: PORT_SPACE.to }]);
    default:
      return [];
  }
}

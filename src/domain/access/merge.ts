/**
 * Merging atoms back into ranges: the destination atoms of each port atom become the minimal
 * CIDR cover of their union, and port atoms whose destinations are the same become one list of
 * port ranges, so an answer reads like the policies that produced it.
 */
import { type AddressRange, minimalCoverText, toAddressSet } from "../cidr/ranges";
import type { NetworkProtocol, PortRange } from "../model";
import { compareCidrs } from "../policies/selectors";
import { type Interval, toIntervalSet } from "./intervals";
import { PROTOCOLS } from "./space";

/** Connections of these protocols: these ports (null: ICMP, no port) to these destinations. */
export interface TrafficBlock {
  /** In `PROTOCOLS` order; ICMP is always alone (it has no port). */
  protocols: NetworkProtocol[];
  /** Inclusive port ranges, ascending and merged; null for ICMP. */
  ports: PortRange[] | null;
  /** Canonical CIDRs, the minimal cover (IPv4 first, ascending). */
  destinations: string[];
}

/** Collects destination atoms per protocol and port atom, then merges them. */
export class BlockBuilder {
  private readonly pieces = new Map<
    string,
    { protocol: NetworkProtocol; port: Interval | null; atoms: AddressRange[] }
  >();

  /** Adds one atom (destinations) of a cell (protocol, port atom). */
  add(protocol: NetworkProtocol, port: Interval | null, atom: AddressRange): void {
    const key = `${protocol}/${port === null ? "" : `${port.from}-${port.to}`}`;
    let piece = this.pieces.get(key);
    if (piece === undefined) {
      piece = { protocol, port, atoms: [] };
      this.pieces.set(key, piece);
    }
    piece.atoms.push(atom);
  }

  /**
   * The merged blocks, ordered by first protocol (icmp, tcp, udp), then first port, then first
   * destination; protocols with the same ports and destinations share a block.
   */
  build(): TrafficBlock[] {
    const groups = new Map<
      string,
      { protocol: NetworkProtocol; ports: Interval[]; destinations: string[]; hasPort: boolean }
    >();
    for (const piece of this.pieces.values()) {
      const destinations = minimalCoverText(toAddressSet(piece.atoms));
      const key = `${piece.protocol} ${destinations.join(",")}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = { protocol: piece.protocol, ports: [], destinations, hasPort: piece.port !== null };
        groups.set(key, group);
      }
      if (piece.port !== null) {
        group.ports.push(piece.port);
      }
    }
    const blocks = new Map<string, TrafficBlock>();
    for (const g of groups.values()) {
      const ports = g.hasPort ? toIntervalSet(g.ports) : null;
      const key = JSON.stringify([ports, g.destinations]);
      const block = blocks.get(key);
      if (block === undefined) {
        blocks.set(key, { protocols: [g.protocol], ports, destinations: g.destinations });
      } else {
        block.protocols.push(g.protocol);
      }
    }
    const order = (b: TrafficBlock) => PROTOCOLS.indexOf(b.protocols[0] ?? "icmp");
    for (const block of blocks.values()) {
      block.protocols.sort((x, y) => PROTOCOLS.indexOf(x) - PROTOCOLS.indexOf(y));
    }
    return [...blocks.values()].sort(
      (a, b) =>
        order(a) - order(b) ||
        (a.ports?.[0]?.from ?? 0) - (b.ports?.[0]?.from ?? 0) ||
        compareCidrs(a.destinations[0] ?? "0.0.0.0/0", b.destinations[0] ?? "0.0.0.0/0"),
    );
  }
}

/**
 * The engine's connection space: every address of both families, the ports of TCP and UDP (ICMP
 * has none), and the protocols.
 */
import type { AddressRange } from "../cidr/ranges";
import type { NetworkProtocol } from "../model";
import type { Interval } from "./intervals";

/** The ports a TCP or UDP connection can have; an ICMP connection has none. */
export const PORT_SPACE: Interval = { from: 1, to: 65535 };

/** Every address of both families. */
export const ADDRESS_SPACE: readonly AddressRange[] = [
  { family: 4, first: 0n, last: (1n << 32n) - 1n },
  { family: 6, first: 0n, last: (1n << 128n) - 1n },
];

/** The protocols of the engine's connection space, in output order. */
export const PROTOCOLS: readonly NetworkProtocol[] = ["icmp", "tcp", "udp"];

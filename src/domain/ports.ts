/** Layer 4 pieces shared by policies and grants, apart from model.ts so both can import them. */

/** An inclusive port range; a single port has `from === to`. Ports are 1..65535. */
export interface PortRange {
  from: number;
  to: number;
}

/** Layer 4 protocols a network policy can narrow to. */
export type NetworkProtocol = "tcp" | "udp" | "icmp";

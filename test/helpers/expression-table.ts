/**
 * The shared table of Gateway `l4` expressions that holds the emulator's parser and tunnelplane's
 * renderer/parser (src/domain/policies) to each other. Each case says what the emulator stores
 * (or the refusal it answers) and whether tunnelplane's own parser reads it.
 */
import type { PolicySelectorsInput } from "../../src/domain/policies/selectors";

/** One expression written into one slot of an `l4` rule. */
export interface ExpressionCase {
  slot: "traffic" | "identity" | "device_posture";
  text: string;
  /** The formatted form the emulator stores, or the message of its 400 / 2001 refusal. */
  emulator: { stored: string } | { refused: string };
  /** Whether tunnelplane's `parseExpression` reads it. */
  tunnelplane: boolean;
}

const POSTURE_ID = "1308749e-fcfb-4ebc-b051-fe022b632644";

/** Expressions both sides read; the emulator stores them reformatted. */
export const ACCEPTED: ExpressionCase[] = [
  {
    slot: "traffic",
    text: "  net.dst.ip in {10.0.0.0/8 \n  10.128.0.7}  ",
    emulator: { stored: "net.dst.ip in {10.0.0.0/8 10.128.0.7}" },
    tunnelplane: true,
  },
  {
    slot: "traffic",
    text: 'net.dst.port in {22 443 8000..8099} and net.protocol in {"tcp"   "udp"}',
    emulator: { stored: 'net.dst.port in {22 443 8000..8099} and net.protocol in {"tcp" "udp"}' },
    tunnelplane: true,
  },
  {
    slot: "traffic",
    text: "net.dst.ip == 10.0.0.1 or (net.dst.ip in {2001:db8::/32} and not net.dst.port == 22)",
    emulator: {
      stored:
        "net.dst.ip == 10.0.0.1 or (net.dst.ip in {2001:db8::/32} and not net.dst.port == 22)",
    },
    tunnelplane: true,
  },
  {
    slot: "traffic",
    text: "net.dst.ip in {10.0.0.1..10.0.0.9} && net.src.port >= 1024 && net.dst.port lt 100",
    emulator: {
      stored: "net.dst.ip in {10.0.0.1..10.0.0.9} && net.src.port >= 1024 && net.dst.port lt 100",
    },
    tunnelplane: true,
  },
  {
    slot: "traffic",
    text: 'net.dst.port == "2222" and access.private_app',
    emulator: { stored: 'net.dst.port == "2222" and access.private_app' },
    tunnelplane: true,
  },
  {
    slot: "identity",
    text: 'any(identity.groups.name[*] in {"Contractors"  "Eng \\"A\\""})',
    emulator: { stored: 'any(identity.groups.name[*] in {"Contractors" "Eng \\"A\\""})' },
    tunnelplane: true,
  },
  {
    slot: "identity",
    text: 'identity.email  matches "[^"  ]+@example\\.com"',
    emulator: { stored: 'identity.email matches "[^"  ]+@example\\.com"' },
    tunnelplane: true,
  },
  {
    slot: "identity",
    text: 'not(identity.email == "guest@company.com")',
    emulator: { stored: 'not(identity.email == "guest@company.com")' },
    tunnelplane: true,
  },
  {
    slot: "identity",
    text: 'any(identity.groups[*].name in {"SRE"}) || identity.email == "a@x.com"',
    emulator: { stored: 'any(identity.groups[*].name in {"SRE"}) || identity.email == "a@x.com"' },
    tunnelplane: true,
  },
  {
    slot: "device_posture",
    text: `any(device_posture.checks.passed[*] in {"${POSTURE_ID}"})`,
    emulator: { stored: `any(device_posture.checks.passed[*] in {"${POSTURE_ID}"})` },
    tunnelplane: true,
  },
];

/** Malformed expressions: both sides refuse them. */
export const MALFORMED: ExpressionCase[] = [
  [
    "traffic",
    "net.dst.ip in {10.0.0.0/8, 10.1.0.0/16}",
    "(1:26): set members are separated by spaces, not commas",
  ],
  [
    "traffic",
    "net.dst.ipp == 10.0.0.1",
    "(1:1): unknown field `net.dst.ipp` for network (l4) rules",
  ],
  ["traffic", 'net.dst.ip == "10.0.0.1"', "(1:15): expected an IP address or CIDR"],
  ["traffic", "net.dst.ip in {10.1.2.3/8}", "(1:16): `10.1.2.3/8` has host bits set"],
  ["traffic", "net.dst.port in {99..22}", "(1:18): the range `99..22` is empty"],
  ["traffic", "net.protocol == tcp", '(1:17): expected a string in double quotes ("…")'],
  [
    "traffic",
    'net.dst.ip matches "10"',
    "(1:12): operator `matches` does not apply to ip field `net.dst.ip`",
  ],
  ["traffic", "net.dst.port = 22", "(1:14): expected an operator"],
  ["traffic", "net.dst.port == 22 and", "(1:23): expected a field, `not`, `any(` or `(`"],
  ["traffic", "net.dst.ip in {10.0.0.0/8", "(1:26): expected `}`"],
  [
    "traffic",
    "net.dst.ip in $corp_ranges",
    "(1:15): list not found (Gateway lists are not emulated)",
  ],
  [
    "traffic",
    'dns.fqdn == "example.com"',
    "(1:1): unknown field `dns.fqdn` for network (l4) rules",
  ],
  [
    "identity",
    'identity.groups.name in {"x"}',
    "(1:1): `identity.groups.name` is an array: write `any(identity.groups.name[*] …)`",
  ],
  ["identity", 'any(identity.email[*] == "a@x.com")', "(1:5): `identity.email` is not an array"],
  ["identity", 'identity.email == "a@x.com', "(1:19): missing closing quote"],
  [
    "identity",
    'identity.email matches "(?=a)b"',
    "(1:24): invalid regex: look-around and back-references are not supported",
  ],
  ["identity", '(identity.email == "a@x.com"', "(1:29): expected `)`"],
  [
    "device_posture",
    `device_posture.checks.passed == "${POSTURE_ID}"`,
    "(1:1): `device_posture.checks.passed` is an array: write `any(device_posture.checks.passed[*] …)`",
  ],
].map(([slot, text, refused]) => ({
  slot: slot as ExpressionCase["slot"],
  text: text as string,
  emulator: { refused: `${slot}: Filter parsing error ${refused}` },
  tunnelplane: false,
}));

/**
 * Where the two differ on purpose: Cloudflare's field tables tie each field to one slot and know
 * selectors tunnelplane never writes; tunnelplane's parser (for imports and analysis) reads every
 * Gateway field it knows in any slot and no others, and no nesting deeper than 64 levels (the
 * emulator reads any depth, as rules made by scripts exist).
 */
export const DIVERGENT: ExpressionCase[] = [
  {
    slot: "traffic",
    text: 'identity.email == "a@x.com"',
    emulator: {
      refused:
        "traffic: Filter parsing error (1:1): field `identity.email` belongs in `identity`, not in `traffic`",
    },
    tunnelplane: true,
  },
  {
    slot: "traffic",
    text: `${"(".repeat(100)}net.dst.ip in {10.20.1.1}${")".repeat(100)}`,
    emulator: { stored: `${"(".repeat(100)}net.dst.ip in {10.20.1.1}${")".repeat(100)}` },
    tunnelplane: false,
  },
  {
    slot: "traffic",
    text: 'net.sni.host == "db.example.com"',
    emulator: { stored: 'net.sni.host == "db.example.com"' },
    tunnelplane: false,
  },
];

/** Selector sets tunnelplane renders; each rendering must be stored as tunnelplane normalises it. */
export const RENDERED: { selectors: PolicySelectorsInput; posture: string[] }[] = [
  {
    selectors: {
      destinations: ["10.128.0.7/32", "10.0.0.0/8", "2001:db8::/32", "2001:db8::1/128"],
      ports: [
        { from: 8000, to: 8099 },
        { from: 22, to: 22 },
      ],
      protocols: ["udp", "tcp", "icmp"],
      emails: ["B@y.com", "a@x.com"],
      emailRegex: ".*@example\\.com",
      groups: ["Contractors", 'Eng "Core"', "back\\slash"],
    },
    posture: [POSTURE_ID, "0f9e9b8a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"],
  },
  {
    selectors: {
      destinations: [],
      ports: [],
      protocols: [],
      emails: [],
      emailRegex: '[^"]+@corp\\.example',
      groups: [],
    },
    posture: [],
  },
  {
    selectors: { destinations: [], ports: [], protocols: [], emails: [], emailRegex: null },
    posture: [],
  },
];

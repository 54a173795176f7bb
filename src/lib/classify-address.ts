import ipaddr from "ipaddr.js";

/** What a sink address is, for the SSRF guard: `public` (global unicast), `loopback`, or `blocked` with the range's name. */
export type AddressClass = { kind: "public" } | { kind: "loopback" } | { kind: "blocked"; range: string };

/**
 * Classifies an IP address (v4 or v6, any textual form ipaddr.js parses: `127.1`, `2130706433`, `0x7f000001`,
 * `::ffff:127.0.0.1`). IPv4-mapped IPv6 is unwrapped first (`::ffff:127.0.0.1` is loopback, not "ipv4Mapped").
 * Only ipaddr.js's `unicast` range is public: private, link-local (169.254.169.254), unique-local, CGNAT,
 * multicast, reserved, 6to4/Teredo/NAT64 (they embed an IPv4 address) and the rest are all blocked.
 * Returns null when `text` is not an IP address at all (a host name).
 */
export function classifyAddress(text: string): AddressClass | null {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (!ipaddr.isValid(bare)) return null;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(bare);
  } catch {
    return { kind: "blocked", range: "unparseable" };
  }
  const range = addr.range();
  if (range === "unicast") return { kind: "public" };
  if (range === "loopback") return { kind: "loopback" };
  return { kind: "blocked", range };
}

/** True for host names that name this machine without DNS (`localhost`, `*.localhost`, RFC 6761). */
export function isLocalhostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h.endsWith(".localhost");
}

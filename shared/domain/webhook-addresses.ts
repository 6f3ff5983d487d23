/**
 * Which addresses a production webhook may reach: public unicast only. A partner-supplied URL is a
 * server-side request the platform makes from inside AWS, so without this a webhook URL could
 * reach the instance metadata service (169.254.169.254), the VPC, or loopback (SSRF). Sandbox and
 * the local stack allow private and loopback addresses, so a partner can test against a receiver
 * on their own machine.
 *
 * The check runs on the addresses DNS actually returned, at connect time (see
 * shared/webhooks/http-post.ts), so a name that resolves differently later (DNS rebinding) is
 * checked again on every delivery.
 */
import { BlockList, isIP } from 'node:net';

/** IANA special-purpose ranges (RFC 6890 and successors) that are not publicly routable unicast. */
// Two lists: a BlockList matches IPv4 addresses against its IPv6 rules too (as IPv4-mapped), so
// one list holding `::ffff:0:0/96` would block every IPv4 address.
const NOT_PUBLIC_V4 = new BlockList();
const NOT_PUBLIC_V6 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, including the EC2/ECS metadata endpoints
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255 broadcast
] as const) {
  NOT_PUBLIC_V4.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::ffff:0:0', 96], // IPv4-mapped (checked as IPv4 below; blocked here if that fails)
  ['64:ff9b::', 96], // NAT64 to IPv4: may reach a private IPv4 address
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID, ...)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an arbitrary IPv4 address
  ['fc00::', 7], // unique local (private)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  NOT_PUBLIC_V6.addSubnet(network, prefix, 'ipv6');
}

/** True for a public unicast IPv4 or IPv6 address; false for anything else, including non-addresses. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !NOT_PUBLIC_V4.check(address, 'ipv4');
  if (family !== 6) return false;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return isPublicAddress(mapped[1]!);
  return !NOT_PUBLIC_V6.check(address, 'ipv6');
}

/** May a webhook of this stage connect to `address`? */
export function isAllowedWebhookAddress(address: string, allowPrivate: boolean): boolean {
  return allowPrivate ? isIP(address) !== 0 : isPublicAddress(address);
}

/**
 * A host name that names a non-public place without any DNS lookup: an IP literal outside the
 * public ranges, or `localhost` and its subdomains (RFC 6761).
 */
export function isObviouslyPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && !isPublicAddress(host);
}

/**
 * Which addresses a webhook may reach. A partner-supplied URL is a server-side request the
 * platform makes from inside AWS, so without this a webhook URL could reach the instance metadata
 * service (169.254.169.254), the VPC, or the Lambda's own loopback, where the Runtime API listens
 * on 127.0.0.1:9001 (SSRF). Every deployed stage, sandbox included, may reach public unicast
 * addresses only; only the local stack (WEBHOOK_PRIVATE_ADDRESSES=allow, see shared/config.ts) may
 * reach loopback and private addresses, so a developer can test against a receiver on their machine.
 *
 * The check runs on the addresses DNS actually returned, at connect time (see
 * shared/webhooks/http-post.ts), so a name that resolves differently later (DNS rebinding) is
 * checked again on every delivery.
 */
import { BlockList, isIP } from 'node:net';
import type { Stage } from '../config.ts';
import { ipv6Bytes } from './ipv6.ts';

function blockList(family: 'ipv4' | 'ipv6', ranges: readonly (readonly [string, number])[]): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of ranges) list.addSubnet(network, prefix, family);
  return list;
}

// IANA special-purpose ranges (RFC 6890 and successors) that are not publicly routable unicast.
// Separate lists per family: a BlockList matches IPv4 addresses against its IPv6 rules too (as
// IPv4-mapped), so one list holding `::ffff:0:0/96` would block every IPv4 address.
const NOT_PUBLIC_V4 = blockList('ipv4', [
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
]);

const NOT_PUBLIC_V6 = blockList('ipv6', [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  // Translation prefixes carry an IPv4 address to a gateway: NAT64 (RFC 6052, RFC 8215), 6to4
  // (RFC 3056, the IPv4 address in bits 16-48) and Teredo (RFC 4380, the server's IPv4 address in
  // bits 32-64 and the client's, inverted, in the last 32). They are never public, whatever they
  // embed: where the packet ends up is the gateway's decision (a NAT64 in our own VPC reaches our
  // private IPv4 space), decoding each format is more code to get wrong, and a real receiver has a
  // native address to publish instead.
  ['64:ff9b::', 96], // NAT64 well-known prefix
  ['64:ff9b:1::', 48], // NAT64 local-use prefix
  ['2001::', 32], // Teredo
  ['2002::', 16], // 6to4
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (ORCHID, ...)
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (private), including the EC2 metadata endpoint fd00:ec2::254
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
]);

// IPv6 forms that stand for an IPv4 address in their last 32 bits, and reach it: a socket given
// one talks IPv4 to the embedded address, so the address is judged as that IPv4 address.
const STANDS_FOR_V4 = blockList('ipv6', [
  ['::ffff:0:0', 96], // IPv4-mapped (RFC 4291)
  ['::', 96], // IPv4-compatible (RFC 4291, deprecated); holds `::` and `::1`, listed above
  ['::ffff:0:0:0', 96], // IPv4-translated (RFC 2765)
]);

function isPublicIpv4(address: string): boolean {
  return !NOT_PUBLIC_V4.check(address, 'ipv4');
}

/**
 * True for a public unicast IPv4 or IPv6 address; false for anything else, including non-addresses,
 * bracketed or zoned text, and any IPv6 form of a non-public IPv4 address.
 */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return isPublicIpv4(address);
  const bytes = family === 6 ? ipv6Bytes(address) : undefined;
  if (!bytes) return false;
  // The lists see the bytes we parsed, spelled out in full, so no text form can be read one way by
  // the parser and another way (or not at all, which a BlockList answers with "no match") by them.
  const spelledOut = Array.from({ length: 8 }, (_, group) => ((bytes[2 * group]! << 8) | bytes[2 * group + 1]!).toString(16)).join(':');
  if (NOT_PUBLIC_V6.check(spelledOut, 'ipv6')) return false;
  if (STANDS_FOR_V4.check(spelledOut, 'ipv6')) return isPublicIpv4(bytes.subarray(12).join('.'));
  return true;
}

/** What a webhook may reach in this deployment; see webhookTargetRules. */
export interface WebhookTargetRules {
  /** Only `https:` URLs. */
  requireHttps: boolean;
  /** Loopback and private addresses too (the local stack only). */
  allowPrivateAddresses: boolean;
}

/**
 * The rules for a deployment's configuration. Addresses are not a stage rule: a deployed sandbox
 * runs in AWS like production, with the same metadata service and Runtime API to protect, so only
 * the local stack's explicit `allow` opens private addresses. The scheme is a stage rule:
 * production requires https because its events are real; a sandbox may use http, since its data
 * is test data, the signature (not TLS) is what proves a delivery genuine, and the scheme does not
 * change which address is reached.
 */
export function webhookTargetRules(settings: { STAGE: Stage; WEBHOOK_PRIVATE_ADDRESSES: 'deny' | 'allow' }): WebhookTargetRules {
  return { requireHttps: settings.STAGE === 'production', allowPrivateAddresses: settings.WEBHOOK_PRIVATE_ADDRESSES === 'allow' };
}

/** May a webhook connect to `address` under these rules? */
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

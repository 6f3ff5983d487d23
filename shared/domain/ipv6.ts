/**
 * IPv6 text to bytes. Node can check an IPv6 address (`isIP`) and match it against ranges
 * (`BlockList`), but offers no way to read its bits, and the webhook SSRF check needs the IPv4
 * address some IPv6 forms carry in their last 32 bits (shared/domain/webhook-addresses.ts).
 * Reading the bits, rather than matching the text, makes every spelling of one address equal:
 * `::ffff:127.0.0.1`, `::FFFF:7F00:1` and `0:0:0:0:0:ffff:7f00:0001` are the same 16 bytes.
 */
import { isIP } from 'node:net';

/**
 * The 16 bytes of an IPv6 address in any RFC 4291 text form (`::` compression, 1-4 hex digits per
 * group, either case, an optional dotted-quad tail), or undefined for anything else. A zone id
 * (`fe80::1%eth0`) is refused: it names an interface of this host, which no partner URL should,
 * and Node's `BlockList` does not match such text against its ranges.
 */
export function ipv6Bytes(text: string): Uint8Array | undefined {
  if (isIP(text) !== 6 || text.includes('%')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1]!, true) : [];
  if (!head || !tail) return undefined;
  // Without `::` there are exactly 8 groups; with it, `::` stands for at least one zero group.
  const zeros = 8 - head.length - tail.length;
  if (halves.length === 1 ? zeros !== 0 : zeros < 1) return undefined;
  const groups = [...head, ...new Array<number>(zeros).fill(0), ...tail];
  return Uint8Array.from(groups.flatMap((group) => [group >> 8, group & 0xff]));
}

/** The 16-bit groups of a colon-separated run; a dotted quad (two groups) only where it may end the address. */
function groupsOf(run: string, endsAddress: boolean): number[] | undefined {
  if (run === '') return [];
  const parts = run.split(':');
  const groups: number[] = [];
  for (const [index, part] of parts.entries()) {
    if (endsAddress && index === parts.length - 1 && isIP(part) === 4) {
      const [a, b, c, d] = part.split('.').map(Number) as [number, number, number, number];
      groups.push((a << 8) | b, (c << 8) | d);
    } else if (/^[0-9a-f]{1,4}$/i.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

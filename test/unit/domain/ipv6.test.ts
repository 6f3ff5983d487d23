/**
 * IPv6 text to bytes: every RFC 4291 spelling of an address is the same 16 bytes, and anything
 * that is not a plain IPv6 address (zone ids, brackets, malformed text) is no address at all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipv6Bytes } from '../../../shared/domain/ipv6.ts';
import { propertySeed } from '../../support/property-seed.ts';

const hexOf = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('hex') : undefined);

describe('ipv6Bytes', () => {
  it.each([
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['::127.0.0.1', '0000000000000000000000007f000001'],
    ['::ffff:127.0.0.1', '00000000000000000000ffff7f000001'],
    ['::FFFF:7F00:1', '00000000000000000000ffff7f000001'],
    ['0000:0000:0000:0000:0000:ffff:7f00:0001', '00000000000000000000ffff7f000001'],
    ['::ffff:0:127.0.0.1', '0000000000000000ffff00007f000001'],
    ['64:ff9b::7f00:1', '0064ff9b00000000000000007f000001'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', '200100004136e378800063bf80fffffe'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
  ])('reads %s', (text, hex) => {
    expect(hexOf(ipv6Bytes(text))).toBe(hex);
  });

  it.each(['fe80::1%eth0', 'fe80::1%25eth0', '[::1]', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '::1.2.3', '1.2.3.4', '::12345', '', 'localhost'])(
    'refuses %s',
    (text) => {
      expect(ipv6Bytes(text)).toBeUndefined();
    },
  );

  it('reads every spelling of an address as the same bytes: spelled out, compressed, uppercase, dotted tail', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.nat(7), fc.nat(7), (groups, from, length) => {
        // Runs of zeros make `::` compression likely.
        const words = groups.map((group, index) => (index >= from && index < from + length ? 0 : group));
        const bytes = Uint8Array.from(words.flatMap((word) => [word >> 8, word & 0xff]));
        const spelledOut = words.map((word) => word.toString(16).padStart(4, '0')).join(':');
        const compressed = new URL(`http://[${spelledOut}]/`).hostname.slice(1, -1); // RFC 5952 form, by the WHATWG URL parser
        const dottedTail = `${words.slice(0, 6).map((word) => word.toString(16)).join(':')}:${[...bytes.subarray(12)].join('.')}`;
        for (const text of [spelledOut, spelledOut.toUpperCase(), compressed, dottedTail]) {
          expect(hexOf(ipv6Bytes(text)), text).toBe(hexOf(bytes));
        }
      }),
      { seed: propertySeed },
    );
  });
});

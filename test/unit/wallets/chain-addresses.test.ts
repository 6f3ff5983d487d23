/**
 * Deposit-address derivation against published vectors (BIP-32, BIP-84, BIP-173/350, EIP-55,
 * well-known keys on every chain), and properties: derivation is deterministic, agrees with what
 * a wallet holding the private key derives, and always yields a valid address for its chain.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import { HDKey } from '@scure/bip32';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AccountKeyError,
  deriveAddress,
  encodeAddress,
  MAX_CHILD_INDEX,
  normalizeAddress,
  parseAccountKey,
  toChecksumAddress,
} from '../../../shared/domain/chain-addresses.ts';
import { CHAINS, FAMILY_OF, KEY_FAMILIES, type KeyFamily } from '../../../shared/domain/chains.ts';
import { SANDBOX_TEST_XPUBS } from '../../../shared/services/wallet-keys.ts';

/** The account of BIP-84's test vectors ("abandon" x11 + "about"), in both serializations. */
const BIP84_ZPUB = 'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs';
const BIP84_AS_XPUB = 'xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V';

describe('BIP-32 public derivation (test vectors 1 and 2)', () => {
  // Only non-hardened steps can be taken from an xpub, which is all the platform ever does.
  it.each([
    [
      'vector 1: m/0H -> m/0H/1',
      'xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw',
      1,
      'xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ',
    ],
    [
      'vector 1: m/0H/1/2H/2 -> m/0H/1/2H/2/1000000000',
      'xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV',
      1_000_000_000,
      'xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy',
    ],
    [
      'vector 2: m -> m/0',
      'xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB',
      0,
      'xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH',
    ],
    [
      "vector 2: m/0/2147483647H -> m/0/2147483647H/1",
      'xpub6ASAVgeehLbnwdqV6UKMHVzgqAG8Gr6riv3Fxxpj8ksbH9ebxaEyBLZ85ySDhKiLDBrQSARLq1uNRts8RuJiHjaDMBU4Zn9h8LZNnBC5y4a',
      1,
      'xpub6DF8uhdarytz3FWdA8TvFSvvAh8dP3283MY7p2V4SeE2wyWmG5mg5EwVvmdMVCQcoNJxGoWaU9DCWh89LojfZ537wTfunKau47EL2dhHKon',
    ],
  ])('%s', (_name, parent, index, child) => {
    expect(HDKey.fromExtendedKey(parent).deriveChild(index).publicExtendedKey).toBe(child);
  });
});

describe('BTC: BIP-84 native segwit', () => {
  const account = parseAccountKey('btc', BIP84_ZPUB);

  it('derives the receive addresses of the BIP-84 test vectors, with their paths', () => {
    expect(deriveAddress(account, 0)).toEqual({ address: 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu', derivationPath: "m/84'/0'/0'/0/0", index: 0 });
    expect(deriveAddress(account, 1)).toEqual({ address: 'bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g', derivationPath: "m/84'/0'/0'/0/1", index: 1 });
  });

  it('derives the vectors\' public key and change address (the same encoding on the internal chain)', () => {
    expect(Buffer.from(account.hdKey.deriveChild(0).deriveChild(0).publicKey!).toString('hex')).toBe(
      '0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c',
    );
    expect(encodeAddress('btc', account.hdKey.deriveChild(1).deriveChild(0).publicKey!)).toBe('bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el');
  });

  it('accepts the same account serialized as an xpub and derives the same addresses', () => {
    const asXpub = parseAccountKey('btc', BIP84_AS_XPUB);
    for (const index of [0, 1, 7, 1000]) expect(deriveAddress(asXpub, index)).toEqual(deriveAddress(account, index));
  });

  it('encodes the generator point as the BIP-173 example address', () => {
    const generator = hexToBytes('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
    expect(encodeAddress('btc', generator)).toBe('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
  });
});

describe('EVM chains (ETH, BSC, POLYGON): BIP-44 coin 60, EIP-55', () => {
  it('derives the well-known addresses of the test mnemonic\'s m/44\'/60\'/0\'/0/{0,1}', () => {
    const account = parseAccountKey('evm', SANDBOX_TEST_XPUBS.evm);
    expect(deriveAddress(account, 0)).toEqual({ address: '0x9858EfFD232B4033E47d90003D41EC34EcaEda94', derivationPath: "m/44'/60'/0'/0/0", index: 0 });
    expect(deriveAddress(account, 1).address).toBe('0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0');
  });

  it('encodes the generator point (private key 1) as its well-known address', () => {
    const generator = hexToBytes('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
    expect(encodeAddress('evm', generator)).toBe('0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf');
  });

  it.each([
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
    '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    '0x52908400098527886E0F7030069857D2E4169EE7',
    '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
    '0xde709f2102306220921060314715629080e2fb77',
    '0x27b1fdb04752bbc536007a920d24acb045561c26',
  ])('checksums the EIP-55 vector %s', (vector) => {
    expect(toChecksumAddress(vector.toLowerCase())).toBe(vector);
    expect(normalizeAddress('ETH', vector)).toBe(vector);
  });
});

describe('TRON: BIP-44 coin 195, base58check', () => {
  it('derives the well-known addresses of the test mnemonic\'s m/44\'/195\'/0\'/0/{0,1}', () => {
    const account = parseAccountKey('tron', SANDBOX_TEST_XPUBS.tron);
    expect(deriveAddress(account, 0)).toEqual({ address: 'TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH', derivationPath: "m/44'/195'/0'/0/0", index: 0 });
    expect(deriveAddress(account, 1).address).toBe('TSeJkUh4Qv67VNFwY8LaAxERygNdy6NQZK');
  });

  it('encodes the generator point (private key 1) as its well-known address', () => {
    const generator = hexToBytes('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
    expect(encodeAddress('tron', generator)).toBe('TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HC');
  });
});

describe('normalizeAddress', () => {
  it.each([
    ['BTC', 'BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'],
    ['BTC', 'bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3', 'bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3'],
    ['BTC', 'bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y', 'bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y'],
    ['BTC', 'BC1SW50QGDZ25J', 'bc1sw50qgdz25j'],
    ['ETH', '0x9858effd232b4033e47d90003d41ec34ecaeda94', '0x9858EfFD232B4033E47d90003D41EC34EcaEda94'],
    ['BSC', '0x9858EFFD232B4033E47D90003D41EC34ECAEDA94', '0x9858EfFD232B4033E47d90003D41EC34EcaEda94'],
    ['POLYGON', '0x9858EfFD232B4033E47d90003D41EC34EcaEda94', '0x9858EfFD232B4033E47d90003D41EC34EcaEda94'],
    // TRON's documented example: 41 8840E6C55B9ADA326D211D818C34A994AECED808.
    ['TRON', 'TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL', 'TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL'],
  ] as const)('accepts %s address %s as %s', (chain, text, canonical) => {
    expect(normalizeAddress(chain, text)).toBe(canonical);
  });

  it.each([
    ['BTC', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5', 'bad checksum'],
    ['BTC', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kV8f3t4', 'mixed case'],
    ['BTC', 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', 'testnet'],
    ['BTC', 'bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du', 'v2 with a bech32 (not bech32m) checksum'],
    ['BTC', 'BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL', 'v16 with a bech32 checksum'],
    ['BTC', '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', 'legacy P2PKH: not segwit'],
    ['ETH', '0x9858EfFD232B4033E47d90003D41EC34EcaEda95', 'mixed case with a wrong checksum'],
    ['ETH', '0x9858EfFD232B4033E47d90003D41EC34EcaEdA94', 'one letter flipped in case'],
    ['ETH', '9858effd232b4033e47d90003d41ec34ecaeda94', 'no 0x'],
    ['ETH', '0x9858effd232b4033e47d90003d41ec34ecaeda', 'too short'],
    ['TRON', 'TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeM', 'bad checksum'],
    ['TRON', '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', 'a bitcoin version byte'],
    ['TRON', '0x9858effd232b4033e47d90003d41ec34ecaeda94', 'hex'],
  ] as const)('refuses %s address %s (%s)', (chain, text, _why) => {
    expect(normalizeAddress(chain, text)).toBeUndefined();
  });
});

describe('parseAccountKey', () => {
  const rootXpub = HDKey.fromMasterSeed(hexToBytes('000102030405060708090a0b0c0d0e0f')).publicExtendedKey;
  const root = HDKey.fromMasterSeed(hexToBytes('000102030405060708090a0b0c0d0e0f'));

  it.each<[string, KeyFamily, string, RegExp]>([
    ['a private key', 'evm', root.derive("m/44'/60'/0'").privateExtendedKey, /WALLET_XPUB_EVM is a private key \(xprv…\).*never holds a private key/],
    ['a BIP-49 ypub', 'btc', 'ypub6Ww3ibxVfGzLrAH1PNcjyAWenMTbbAosGNB6VvmSEgytSER9azLDWCxoJwW7Ke7icmizBMXrzBx9979FfaHxHcrArf3zbeJJJUZPf663zsP', /WALLET_XPUB_BTC must be a mainnet extended public key starting with "xpub…" or "zpub…".*"ypub"/],
    ['a testnet key', 'tron', 'tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4FyWuejifB9jusQ46QzG87VKp', /WALLET_XPUB_TRON must be a mainnet extended public key starting with "xpub…"/],
    ['a zpub outside BTC', 'evm', BIP84_ZPUB, /WALLET_XPUB_EVM must be .*starting with "xpub…"/],
    ['a master key', 'evm', rootXpub, /WALLET_XPUB_EVM must be an account-level key \(m\/44'\/60'\/<account>', depth 3\); this one is at depth 0/],
    ['an address-level key', 'tron', root.derive("m/44'/195'/0'/0").publicExtendedKey, /depth 4/],
    ['a depth-3 key with a non-hardened index', 'evm', root.derive("m/44'/60'/0").publicExtendedKey, /non-hardened/],
    ['a corrupted key', 'evm', `${SANDBOX_TEST_XPUBS.evm.slice(0, -1)}u`, /WALLET_XPUB_EVM is not a valid extended public key/],
    ['an empty value', 'btc', '', /WALLET_XPUB_BTC must be a mainnet extended public key/],
  ])('refuses %s with a clear message that does not echo the key', (_name, family, key, message) => {
    let error: unknown;
    try {
      parseAccountKey(family, key);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AccountKeyError);
    expect((error as Error).message).toMatch(message);
    if (key.length > 8) expect((error as Error).message).not.toContain(key.slice(4, 24));
  });

  it('reads the account number from the key and puts it in the derivation path', () => {
    const account7 = parseAccountKey('tron', root.derive("m/44'/195'/7'").publicExtendedKey);
    expect(account7.account).toBe(7);
    expect(deriveAddress(account7, 3).derivationPath).toBe("m/44'/195'/7'/0/3");
  });
});

describe('properties', () => {
  const seeds = fc.uint8Array({ minLength: 16, maxLength: 64 });
  const indexes = fc.integer({ min: 0, max: MAX_CHILD_INDEX });
  const families = fc.constantFrom(...KEY_FAMILIES);
  const ACCOUNT_PATH: Record<KeyFamily, string> = { btc: "m/84'/0'/0'", evm: "m/44'/60'/0'", tron: "m/44'/195'/0'" };

  it('public derivation from the account xpub equals what the private-key holder derives, and is deterministic', () => {
    fc.assert(
      fc.property(seeds, families, indexes, (seed, family, index) => {
        const root = HDKey.fromMasterSeed(seed);
        const account = parseAccountKey(family, root.derive(ACCOUNT_PATH[family]).publicExtendedKey);
        const derived = deriveAddress(account, index);
        const fromPrivate = encodeAddress(family, root.derive(`${ACCOUNT_PATH[family]}/0/${index}`).publicKey!);
        expect(derived.address).toBe(fromPrivate);
        expect(derived.derivationPath).toBe(`${ACCOUNT_PATH[family]}/0/${index}`);
        expect(deriveAddress(parseAccountKey(family, account.hdKey.publicExtendedKey), index)).toEqual(derived);
      }),
      { numRuns: 60 },
    );
  });

  it('every derived address is a valid address, in canonical form, on each chain of its family', () => {
    fc.assert(
      fc.property(families, indexes, (family, index) => {
        const { address } = deriveAddress(parseAccountKey(family, SANDBOX_TEST_XPUBS[family]), index);
        for (const chain of CHAINS.filter((c) => FAMILY_OF[c] === family)) expect(normalizeAddress(chain, address)).toBe(address);
        for (const chain of CHAINS.filter((c) => FAMILY_OF[c] !== family)) expect(normalizeAddress(chain, address)).toBeUndefined();
      }),
      { numRuns: 150 },
    );
  });

  it('different child indexes give different addresses', () => {
    fc.assert(
      fc.property(families, fc.uniqueArray(indexes, { minLength: 2, maxLength: 6 }), (family, picked) => {
        const account = parseAccountKey(family, SANDBOX_TEST_XPUBS[family]);
        expect(new Set(picked.map((index) => deriveAddress(account, index).address)).size).toBe(picked.length);
      }),
      { numRuns: 40 },
    );
  });

  it('a checksummed EVM address with any single letter\'s case flipped is refused', () => {
    fc.assert(
      fc.property(indexes, fc.nat(), (index, pick) => {
        const { address } = deriveAddress(parseAccountKey('evm', SANDBOX_TEST_XPUBS.evm), index);
        const letters = [...address.slice(2)].flatMap((c, i) => (/[a-fA-F]/.test(c) ? [i + 2] : []));
        fc.pre(letters.length >= 2);
        const at = letters[pick % letters.length]!;
        const flipped = address.slice(0, at) + (address[at] === address[at]!.toLowerCase() ? address[at]!.toUpperCase() : address[at]!.toLowerCase()) + address.slice(at + 1);
        const body = flipped.slice(2);
        fc.pre(body !== body.toLowerCase() && body !== body.toUpperCase());
        expect(normalizeAddress('ETH', flipped)).toBeUndefined();
      }),
      { numRuns: 100 },
    );
  });

  it('refuses child indexes outside the non-hardened range', () => {
    const account = parseAccountKey('evm', SANDBOX_TEST_XPUBS.evm);
    expect(() => deriveAddress(account, -1)).toThrow(RangeError);
    expect(() => deriveAddress(account, MAX_CHILD_INDEX + 1)).toThrow(RangeError);
    expect(() => deriveAddress(account, 1.5)).toThrow(RangeError);
  });
});

/**
 * Deposit addresses from account-level extended PUBLIC keys (BIP-32 public derivation): the
 * platform can make every address a user deposits to without ever holding a key that spends.
 *
 * - BTC: BIP-84 native segwit (P2WPKH), bech32 `bc1q…`, from an `xpub`/`zpub` of `m/84'/0'/<a>'`.
 * - ETH, BSC, POLYGON: one key family (BIP-44 coin 60, `m/44'/60'/<a>'`); the address is the last
 *   20 bytes of keccak-256 of the uncompressed public key, EIP-55 checksummed. An EVM address is
 *   the same account on every EVM chain, so a user has ONE address for the three chains.
 * - TRON: BIP-44 coin 195 (`m/44'/195'/<a>'`); the same 20 bytes behind the version byte 0x41,
 *   base58check (`T…`).
 *
 * Address `n` (from 1) of a family is child `n-1` of the external chain: `<account>/0/<n-1>`.
 * All curve and hash work is done by audited libraries (@scure/bip32, @noble/curves,
 * @noble/hashes, @scure/base); this module only wires them to each chain's encoding rules.
 *
 * Pure: no AWS, no configuration (callers pass the parsed account keys).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { bech32, bech32m, createBase58check } from '@scure/base';
import { HARDENED_OFFSET, HDKey, type Versions } from '@scure/bip32';
import { FAMILY_OF, type Chain, type KeyFamily } from './chains.ts';

/** The account path each family's configured key must stand for (purpose and coin type). */
const ACCOUNT_PATH_PREFIX: Record<KeyFamily, string> = { btc: "m/84'/0'", evm: "m/44'/60'", tron: "m/44'/195'" };

/** The environment variable that configures each family's account key (named in error messages). */
export const XPUB_VARIABLE: Record<KeyFamily, string> = { btc: 'WALLET_XPUB_BTC', evm: 'WALLET_XPUB_EVM', tron: 'WALLET_XPUB_TRON' };

/** BIP-32 mainnet version bytes; `zpub` is SLIP-132's marker for a BIP-84 account. */
const XPUB_VERSIONS: Versions = { public: 0x0488b21e, private: 0x0488ade4 };
const ZPUB_VERSIONS: Versions = { public: 0x04b24746, private: 0x04b2430c };

/** The first non-hardened child index that does not exist. */
export const MAX_CHILD_INDEX = HARDENED_OFFSET - 1;

const base58check = createBase58check(sha256);
const TRON_VERSION_BYTE = 0x41;

export class AccountKeyError extends Error {}

/** A parsed account-level public key of one family. */
export interface AccountKey {
  family: KeyFamily;
  /** The account number `a` of `m/<purpose>'/<coin>'/<a>'`, read from the key itself. */
  account: number;
  hdKey: HDKey;
}

/**
 * Parses and checks an account-level extended public key. Every problem is a clear
 * `AccountKeyError` naming the variable, never echoing more of the key than its 4-letter prefix:
 * a private key (`xprv`, `zprv`, ...) is refused outright, and so are keys of the wrong kind
 * (`ypub`, testnet `tpub`/`vpub`), keys that do not decode (bad checksum or length) and keys that
 * are not at the account level (depth 3, hardened index).
 */
export function parseAccountKey(family: KeyFamily, text: string): AccountKey {
  const variable = XPUB_VARIABLE[family];
  const value = text.trim();
  const prefix = value.slice(0, 4);
  if (/^[a-z]prv$/i.test(prefix)) {
    throw new AccountKeyError(`${variable} is a private key (${prefix}…): configure the account's extended PUBLIC key; the platform never holds a private key.`);
  }
  const accepted = family === 'btc' ? ['xpub', 'zpub'] : ['xpub'];
  if (!accepted.includes(prefix)) {
    const expected = accepted.map((p) => `"${p}…"`).join(' or ');
    throw new AccountKeyError(`${variable} must be a mainnet extended public key starting with ${expected} (${ACCOUNT_PATH_PREFIX[family]}/<account>'); got one starting with "${prefix}".`);
  }
  let hdKey: HDKey;
  try {
    hdKey = HDKey.fromExtendedKey(value, prefix === 'zpub' ? ZPUB_VERSIONS : XPUB_VERSIONS);
  } catch {
    throw new AccountKeyError(`${variable} is not a valid extended public key (it does not decode: wrong checksum, length or characters).`);
  }
  if (hdKey.privateKey !== null) {
    throw new AccountKeyError(`${variable} holds a private key: configure the account's extended PUBLIC key.`);
  }
  if (hdKey.depth !== 3 || hdKey.index < HARDENED_OFFSET) {
    throw new AccountKeyError(
      `${variable} must be an account-level key (${ACCOUNT_PATH_PREFIX[family]}/<account>', depth 3); this one is at depth ${hdKey.depth}${hdKey.depth === 3 ? ' with a non-hardened index' : ''}.`,
    );
  }
  return { family, account: hdKey.index - HARDENED_OFFSET, hdKey };
}

export interface DerivedAddress {
  /** The address in its chain's canonical display form (EIP-55 for EVM chains). */
  address: string;
  derivationPath: string;
  index: number;
}

/** The address at child `index` of the key's external chain (`…/0/<index>`). */
export function deriveAddress(key: AccountKey, index: number): DerivedAddress {
  if (!Number.isInteger(index) || index < 0 || index > MAX_CHILD_INDEX) {
    throw new RangeError(`child index ${index} is outside 0..${MAX_CHILD_INDEX} (non-hardened BIP-32 indexes)`);
  }
  const publicKey = key.hdKey.deriveChild(0).deriveChild(index).publicKey;
  if (!publicKey) throw new Error('public derivation produced no public key');
  return {
    address: encodeAddress(key.family, publicKey),
    derivationPath: `${ACCOUNT_PATH_PREFIX[key.family]}/${key.account}'/0/${index}`,
    index,
  };
}

/** The address of a compressed secp256k1 public key in a family's encoding. */
export function encodeAddress(family: KeyFamily, compressedPublicKey: Uint8Array): string {
  if (family === 'btc') {
    const program = ripemd160(sha256(compressedPublicKey));
    return bech32.encode('bc', [0, ...bech32.toWords(program)]);
  }
  const accountId = ethereumAccountId(compressedPublicKey);
  return family === 'evm' ? toChecksumAddress(bytesToHex(accountId)) : base58check.encode(Uint8Array.of(TRON_VERSION_BYTE, ...accountId));
}

/** keccak-256 of the uncompressed public key (without its 0x04 marker), last 20 bytes. */
function ethereumAccountId(compressedPublicKey: Uint8Array): Uint8Array {
  const uncompressed = secp256k1.Point.fromBytes(compressedPublicKey).toBytes(false);
  return keccak_256(uncompressed.subarray(1)).subarray(-20);
}

/**
 * EIP-55: each hex letter of the address is upper case when the matching nibble of
 * keccak-256(lower-case hex address) is 8 or more.
 */
export function toChecksumAddress(hex40: string): string {
  const lower = hex40.toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{40}$/.test(lower)) throw new Error('an EVM address is 20 bytes (40 hex digits)');
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(lower)));
  let out = '0x';
  for (let i = 0; i < 40; i++) out += Number.parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  return out;
}

/**
 * The canonical lookup form of an address on `chain`, or undefined when it is not a valid address
 * there:
 * - BTC: a valid segwit address on mainnet (bech32 for v0, bech32m for v1+), lower case;
 * - EVM: `0x` + 40 hex digits; all-lower or all-upper case is taken as is, mixed case must carry a
 *   correct EIP-55 checksum (a typo then fails instead of reaching a wrong address); the result
 *   is EIP-55 checksummed;
 * - TRON: base58check with version byte 0x41 (case-sensitive, as base58 is).
 */
export function normalizeAddress(chain: Chain, text: string): string | undefined {
  const family = FAMILY_OF[chain];
  if (family === 'btc') return normalizeSegwit(text);
  if (family === 'evm') {
    if (!/^0x[0-9a-fA-F]{40}$/.test(text)) return undefined;
    const body = text.slice(2);
    const checksummed = toChecksumAddress(body);
    const mixed = body !== body.toLowerCase() && body !== body.toUpperCase();
    if (mixed && checksummed !== text) return undefined;
    return checksummed;
  }
  try {
    const bytes = base58check.decode(text);
    return bytes.length === 21 && bytes[0] === TRON_VERSION_BYTE ? text : undefined;
  } catch {
    return undefined;
  }
}

function normalizeSegwit(text: string): string | undefined {
  // Bech32 is case-insensitive but never mixed case (BIP-173).
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return undefined;
  const lower = text.toLowerCase();
  if (!lower.startsWith('bc1')) return undefined;
  const v0 = bech32.decodeUnsafe(lower);
  const decoded = v0 && v0.words[0] === 0 ? v0 : bech32m.decodeUnsafe(lower);
  if (!decoded || decoded.prefix !== 'bc' || decoded.words.length === 0) return undefined;
  const version = decoded.words[0]!;
  if (version > 16) return undefined;
  // BIP-350: v0 uses bech32, v1+ bech32m; the decoder that succeeded must match the version.
  if ((version === 0) !== (decoded === v0)) return undefined;
  const program = bech32.fromWordsUnsafe(decoded.words.slice(1));
  if (!program || program.length < 2 || program.length > 40) return undefined;
  if (version === 0 && program.length !== 20 && program.length !== 32) return undefined;
  return lower;
}

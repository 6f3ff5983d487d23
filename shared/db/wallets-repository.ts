/**
 * Deposit addresses in the single table.
 *
 * - `WALLET_COUNTER#<family>#<shard>`: how many addresses one of the family's counters has handed
 *   out, incremented with an atomic `ADD` (never read-modify-write); each shard owns its own
 *   residue of the child indexes, so two users never get the same one (`nextAddressIndex`).
 * - `USER#<id>` / `WALLET#KEY#<family>`: the user's one address of a key family (the EVM chains
 *   share it); `WALLET#CHAIN#<chain>`: the user's address on a chain, as the API lists it.
 * - `ADDRESS#<family>#<address>`: the index that maps an address back to its user and business,
 *   for deposits; unique, so an address can never belong to two users.
 *
 * A new address is one transaction: the user is still Active and of its business, and the
 * chain entry, family entry and address index are each put only if absent.
 */
import { randomInt } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CHAINS, KEY_FAMILIES, type Chain, type KeyFamily } from '../domain/chains.ts';
import type { WalletAddress } from '../domain/wallets.ts';
import { ApiError } from '../errors.ts';
import { db, intAttr, tableName } from './client.ts';
import { idempotencyInProgress } from './idempotency-repository.ts';
import { walletAddressKeys } from './keys.ts';
import { queryAllWithPrefix } from './query-page.ts';
import { transaction, type TransactItem } from './transact.ts';
import { activeUserCheck } from './users-repository.ts';

/** A user's address of a key family: which child index it is and where it came from. */
export interface FamilyAddress {
  userId: string;
  businessId: string;
  family: KeyFamily;
  index: number;
  address: string;
  derivationPath: string;
  createdAt: string;
}

export interface UserWallets {
  families: Map<KeyFamily, FamilyAddress>;
  /** Newest first. */
  chains: WalletAddress[];
}

/** Every address of a user: one Query over `WALLET#` (a handful of items). */
export async function queryUserWallets(userId: string): Promise<UserWallets> {
  const prefix = walletAddressKeys.userPrefix(userId);
  const families = new Map<KeyFamily, FamilyAddress>();
  const chains: WalletAddress[] = [];
  for (const item of await queryAllWithPrefix(prefix)) {
    if (item.entity === 'wallet_family_address') {
      const family = familyAddressFromItem(item);
      families.set(family.family, family);
    } else if (item.entity === 'wallet_address') {
      chains.push(chainAddressFromItem(item));
    }
  }
  chains.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  return { families, chains };
}

/** Counters per key family: a new address updates one, chosen at random, so none runs hot. */
export const ADDRESS_COUNTER_SHARDS = 16;

/**
 * Where the sharded counters' indexes start: the single counter of release 2 handed out 0, 1, 2,
 * ... from below, and could never reach 2^30 (a billion addresses), so the two ranges never meet.
 */
export const SHARDED_ADDRESS_INDEX_BASE = 2 ** 30;

/**
 * Allocates a new child index of the family: the `n`-th address (1-based) of counter `s` is
 * `BASE + (n - 1) * SHARDS + s`. Every shard owns the indexes of its residue, so two allocations
 * never meet, and an index is never reused (a lost race spends it).
 */
export async function nextAddressIndex(family: KeyFamily, shard = randomInt(ADDRESS_COUNTER_SHARDS)): Promise<number> {
  const result = await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: walletAddressKeys.counter(family, shard),
      UpdateExpression: 'SET entity = :entity ADD allocated :one',
      ExpressionAttributeValues: { ':entity': 'wallet_counter', ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return SHARDED_ADDRESS_INDEX_BASE + (intAttr(result.Attributes?.allocated) - 1) * ADDRESS_COUNTER_SHARDS + shard;
}

export interface NewWalletAddress {
  wallet: WalletAddress;
  /** Present when the user has no address of this family yet. */
  newFamilyAddress?: FamilyAddress;
  idempotencyCompletion?: TransactItem;
}

/**
 * Records a user's address on a chain. Returns `'exists'` when a concurrent request recorded
 * this chain or this family first (read again and answer with what is there); throws 409
 * `user_not_active` if the user was suspended meanwhile.
 */
export async function commitWalletAddress(plan: NewWalletAddress): Promise<'created' | 'exists'> {
  const { wallet, newFamilyAddress } = plan;
  const table = tableName();
  const tx = transaction<'user' | 'exists' | 'address_taken' | 'idempotency'>()
    .add(activeUserCheck(wallet.businessId, wallet.userId), 'user')
    .add({ Put: { TableName: table, Item: chainAddressItem(wallet), ConditionExpression: 'attribute_not_exists(PK)' } }, 'exists');
  if (newFamilyAddress) {
    tx.add({ Put: { TableName: table, Item: familyAddressItem(newFamilyAddress), ConditionExpression: 'attribute_not_exists(PK)' } }, 'exists');
    tx.add(
      {
        Put: {
          TableName: table,
          Item: {
            ...walletAddressKeys.addressIndex(newFamilyAddress.family, newFamilyAddress.address),
            entity: 'wallet_address_index',
            family: newFamilyAddress.family,
            address: newFamilyAddress.address,
            userId: newFamilyAddress.userId,
            businessId: newFamilyAddress.businessId,
            index: newFamilyAddress.index,
            createdAt: newFamilyAddress.createdAt,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      'address_taken',
    );
  }
  if (plan.idempotencyCompletion) tx.add(plan.idempotencyCompletion, 'idempotency');

  const result = await tx.commit();
  if (result.committed) return 'created';
  if (result.failed.has('user')) throw new ApiError('user_not_active');
  if (result.failed.has('exists')) return 'exists';
  if (result.failed.has('address_taken')) {
    // Child indexes come from an atomic counter: an address that is already taken means the
    // counter was reset or two stages share keys. Never hand it out twice.
    throw new Error(`Derived ${newFamilyAddress!.family} address at index ${newFamilyAddress!.index} is already assigned`);
  }
  throw idempotencyInProgress();
}

export interface AddressOwner {
  userId: string;
  businessId: string;
}

/** Who owns an address (in its canonical form), if it is one of the platform's. */
export async function findAddressOwner(family: KeyFamily, address: string): Promise<AddressOwner | undefined> {
  const result = await db().send(new GetCommand({ TableName: tableName(), Key: walletAddressKeys.addressIndex(family, address) }));
  if (!result.Item) return undefined;
  return { userId: String(result.Item.userId), businessId: String(result.Item.businessId) };
}

function chainAddressItem(wallet: WalletAddress): Record<string, unknown> {
  return {
    ...walletAddressKeys.chainAddress(wallet.userId, wallet.chain),
    entity: 'wallet_address',
    userId: wallet.userId,
    businessId: wallet.businessId,
    chain: wallet.chain,
    address: wallet.address,
    derivationPath: wallet.derivationPath,
    createdAt: wallet.createdAt,
  };
}

function familyAddressItem(family: FamilyAddress): Record<string, unknown> {
  return {
    ...walletAddressKeys.familyAddress(family.userId, family.family),
    entity: 'wallet_family_address',
    userId: family.userId,
    businessId: family.businessId,
    family: family.family,
    index: family.index,
    address: family.address,
    derivationPath: family.derivationPath,
    createdAt: family.createdAt,
  };
}

function chainAddressFromItem(item: Record<string, unknown>): WalletAddress {
  const chain = String(item.chain);
  if (!(CHAINS as readonly string[]).includes(chain)) throw new Error(`Wallet address item has an unknown chain: ${chain}`);
  return {
    userId: String(item.userId),
    businessId: String(item.businessId),
    chain: chain as Chain,
    address: String(item.address),
    derivationPath: String(item.derivationPath),
    createdAt: String(item.createdAt),
  };
}

function familyAddressFromItem(item: Record<string, unknown>): FamilyAddress {
  const family = String(item.family);
  if (!(KEY_FAMILIES as readonly string[]).includes(family)) throw new Error(`Wallet family item has an unknown family: ${family}`);
  return {
    userId: String(item.userId),
    businessId: String(item.businessId),
    family: family as KeyFamily,
    index: intAttr(item.index),
    address: String(item.address),
    derivationPath: String(item.derivationPath),
    createdAt: String(item.createdAt),
  };
}

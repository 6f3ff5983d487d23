/**
 * A container's memory of what a key use produced (a keyed hash, a derived key, an opened secret),
 * so a warm function does not call KMS again for it. A remembered value stands for that key use,
 * so it is handed out only where the use itself would be allowed (local-key-policy.ts): the local
 * stack's functions share one process, and so every memo, and a row without the grant must be
 * refused as a cold container in AWS would be. A failed use is not remembered: the next call tries
 * again. At most `maxEntries` values; past that the memo starts over.
 */
import { assertKeyGrant, type KeyOperation } from './local-key-policy.ts';

export class GrantedMemo<T> {
  private readonly values = new Map<string, Promise<T>>();

  constructor(
    private readonly operation: KeyOperation,
    private readonly purpose: string,
    private readonly maxEntries: number,
  ) {}

  /** The value remembered under `slot`, or the one `use` makes (and the memo keeps). */
  async get(slot: string, use: () => Promise<T>): Promise<T> {
    assertKeyGrant(this.operation, this.purpose);
    let value = this.values.get(slot);
    if (!value) {
      if (this.values.size >= this.maxEntries) this.values.clear();
      value = use();
      this.values.set(slot, value);
      value.catch(() => this.values.delete(slot));
    }
    return value;
  }
}

/**
 * An in-memory stand-in for the single table, behind the process's real document client
 * (`shared/db/client.ts` `db()`): while installed, every command the services send is answered
 * from a map of marshalled items instead of DynamoDB, and every write (Put, Update, Delete, each
 * item of a TransactWriteItems, ConditionChecks included) is applied to the map and handed, with
 * the item before and after, to a listener. The partition-heat model (bench/partition-heat.ts)
 * uses it to drive the real services at rates no emulator on this machine could serve.
 *
 * What it serves: GetItem, BatchGetItem, Query on the table by partition key (optionally
 * `begins_with` on the sort key; other sort-key conditions and filters are ignored), the writes
 * above. Update expressions: SET (`= :value`, `= path`, `if_not_exists`, `+`/`-`, `list_append`),
 * ADD, REMOVE and DELETE on top-level attributes, which is every form the repositories use.
 * What it does not: condition expressions are not evaluated (every write succeeds: the model's
 * workloads are approvals that pass their conditions), index queries answer empty, and Scan answers
 * empty. Each unserved kind is counted in `unserved` so a run can say so.
 *
 * Partitions may be synthesized on first touch (`synthesize`): the model clones a template card's
 * or user's items under a new id instead of creating 100,000 cards.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { db } from '../../shared/db/client.ts';
import type { RecordedWrite, StoredItem } from './partition-heat.ts';

type Doc = Record<string, unknown>;
type Names = Record<string, string> | undefined;
type Values = Record<string, AttributeValue>;

const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: true } as const;

export class MemoryTable {
  readonly #partitions = new Map<string, Map<string, StoredItem>>();
  readonly #materialized = new Set<string>();
  /** Commands (or parts of them) this table answered without serving them faithfully. */
  readonly unserved = new Map<string, number>();
  /** Commands by name. */
  readonly commands = new Map<string, number>();

  constructor(
    private readonly onWrite: (write: RecordedWrite) => void = () => {},
    /** Items of a partition nobody wrote yet (a cloned card, say); called once per partition key. */
    private readonly synthesize: (pk: string) => StoredItem[] = () => [],
  ) {}

  /** Stores `items` as they are (no write recorded): seeding. */
  seed(items: Iterable<StoredItem>): void {
    for (const item of items) this.#store(item);
  }

  get(pk: string, sk: string): StoredItem | undefined {
    return this.#partition(pk).get(sk);
  }

  /** Answers `command` (a lib-dynamodb command) as DynamoDB would, for the forms listed above. */
  async send(command: { constructor: { name: string }; input: Doc }): Promise<Doc> {
    const name = command.constructor.name;
    this.commands.set(name, (this.commands.get(name) ?? 0) + 1);
    const input = command.input as Doc;
    switch (name) {
      case 'GetCommand': {
        const item = this.#getByKey(input.Key as Doc);
        return item ? { Item: out(item) } : {};
      }
      case 'BatchGetCommand': {
        const responses: Record<string, Doc[]> = {};
        for (const [table, request] of Object.entries(input.RequestItems as Record<string, { Keys: Doc[] }>)) {
          responses[table] = request.Keys.map((key) => this.#getByKey(key)).filter((item): item is StoredItem => item !== undefined).map(out);
        }
        return { Responses: responses, UnprocessedKeys: {} };
      }
      case 'QueryCommand':
        return this.#query(input);
      case 'ScanCommand':
        this.#unserved('Scan');
        return { Items: [], Count: 0 };
      case 'PutCommand':
        this.#commit([{ kind: 'put', input }], false);
        return {};
      case 'UpdateCommand': {
        const [write] = this.#commit([{ kind: 'update', input }], false);
        // UPDATED_NEW answered with the whole new item: a superset of what DynamoDB returns.
        if ((input.ReturnValues === 'ALL_NEW' || input.ReturnValues === 'UPDATED_NEW') && write?.after) return { Attributes: out(write.after) };
        if (input.ReturnValues === 'ALL_OLD' && write?.before) return { Attributes: out(write.before) };
        return {};
      }
      case 'DeleteCommand':
        this.#commit([{ kind: 'delete', input }], false);
        return {};
      case 'TransactWriteCommand': {
        const parts = (input.TransactItems as Doc[]).map((entry) => {
          if (entry.Put) return { kind: 'put' as const, input: entry.Put as Doc };
          if (entry.Update) return { kind: 'update' as const, input: entry.Update as Doc };
          if (entry.Delete) return { kind: 'delete' as const, input: entry.Delete as Doc };
          return { kind: 'check' as const, input: entry.ConditionCheck as Doc };
        });
        this.#commit(parts, true);
        return {};
      }
      default:
        this.#unserved(name);
        throw new Error(`MemoryTable does not serve ${name}`);
    }
  }

  /** Routes the process's document client to this table until the returned function is called. */
  install(): () => void {
    const client = db() as unknown as { send: (command: unknown) => Promise<unknown> };
    const original = client.send;
    client.send = (command: unknown) => this.send(command as { constructor: { name: string }; input: Doc });
    return () => {
      client.send = original;
    };
  }

  #commit(parts: { kind: RecordedWrite['kind']; input: Doc }[], transactional: boolean): RecordedWrite[] {
    // Every image is computed before any is stored: a transaction reads the state before it.
    const writes = parts.map(({ kind, input }): RecordedWrite => {
      if (kind === 'put') {
        const after = marshall(input.Item as Doc, MARSHALL) as StoredItem;
        return { kind, before: this.get(str(after.PK), str(after.SK)), after, transactional };
      }
      const key = marshall(input.Key as Doc, MARSHALL) as StoredItem;
      const before = this.get(str(key.PK), str(key.SK));
      if (kind === 'delete') return { kind, before, transactional };
      if (kind === 'check') return { kind, before: before ?? key, after: before ?? key, transactional };
      const values = input.ExpressionAttributeValues ? (marshall(input.ExpressionAttributeValues as Doc, MARSHALL) as Values) : {};
      const after = applyUpdate(before ?? key, String(input.UpdateExpression), input.ExpressionAttributeNames as Names, values);
      return { kind, before, after, transactional };
    });
    for (const write of writes) {
      if (write.kind === 'delete') {
        if (write.before) this.#partition(str(write.before.PK)).delete(str(write.before.SK));
      } else if (write.kind !== 'check' && write.after) {
        this.#store(write.after);
      }
      this.onWrite(write);
    }
    return writes;
  }

  #query(input: Doc): Doc {
    if (input.IndexName !== undefined) {
      this.#unserved(`Query ${String(input.IndexName)}`);
      return { Items: [], Count: 0 };
    }
    const names = input.ExpressionAttributeNames as Names;
    const values = input.ExpressionAttributeValues ? (marshall(input.ExpressionAttributeValues as Doc, MARSHALL) as Values) : {};
    const condition = String(input.KeyConditionExpression);
    const pkMatch = /([#\w]+)\s*=\s*(:\w+)/.exec(condition);
    if (!pkMatch || resolveName(pkMatch[1]!, names) !== 'PK') {
      this.#unserved('Query (key condition)');
      return { Items: [], Count: 0 };
    }
    const pk = str(values[pkMatch[2]!]);
    const prefixMatch = /begins_with\s*\(\s*([#\w]+)\s*,\s*(:\w+)\s*\)/.exec(condition);
    const prefix = prefixMatch ? str(values[prefixMatch[2]!]) : '';
    if (!prefixMatch && /\bAND\b/i.test(condition)) this.#unserved('Query (sort-key condition other than begins_with)');
    if (input.FilterExpression !== undefined) this.#unserved('Query (filter)');
    let items = [...this.#partition(pk).values()].filter((item) => str(item.SK).startsWith(prefix));
    items.sort((a, b) => (str(a.SK) < str(b.SK) ? -1 : str(a.SK) > str(b.SK) ? 1 : 0));
    if (input.ScanIndexForward === false) items.reverse();
    if (typeof input.Limit === 'number') items = items.slice(0, input.Limit);
    return { Items: items.map(out), Count: items.length };
  }

  #getByKey(key: Doc): StoredItem | undefined {
    return this.get(String(key.PK), String(key.SK));
  }

  #partition(pk: string): Map<string, StoredItem> {
    let partition = this.#partitions.get(pk);
    if (!partition) this.#partitions.set(pk, (partition = new Map()));
    if (!this.#materialized.has(pk)) {
      this.#materialized.add(pk);
      for (const item of this.synthesize(pk)) if (!partition.has(str(item.SK))) partition.set(str(item.SK), item);
    }
    return partition;
  }

  #store(item: StoredItem): void {
    this.#partition(str(item.PK)).set(str(item.SK), item);
  }

  #unserved(what: string): void {
    this.unserved.set(what, (this.unserved.get(what) ?? 0) + 1);
  }
}

/** The item as the document client would hand it to the services (numbers wrapped, as `db()` reads them). */
function out(item: StoredItem): Doc {
  return unmarshall(item, { wrapNumbers: true });
}

function str(value: AttributeValue | undefined): string {
  if (value?.S === undefined) throw new Error('MemoryTable: a key attribute is not a string');
  return value.S;
}

function resolveName(token: string, names: Names): string {
  if (!token.startsWith('#')) return token;
  const name = names?.[token];
  if (name === undefined) throw new Error(`MemoryTable: no name for ${token}`);
  return name;
}

/** Splits `text` at commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

/**
 * The item after `expression` (SET, ADD, REMOVE, DELETE clauses on top-level attributes) is applied
 * to `item`, which is not changed.
 */
export function applyUpdate(item: StoredItem, expression: string, names: Names, values: Values): StoredItem {
  const next: StoredItem = { ...item };
  const clauses = [...expression.matchAll(/\b(SET|ADD|REMOVE|DELETE)\b([\s\S]*?)(?=\b(?:SET|ADD|REMOVE|DELETE)\b|$)/gi)];
  const attribute = (token: string) => {
    if (/[.[]/.test(token)) throw new Error(`MemoryTable: nested path ${token} is not served`);
    return resolveName(token, names);
  };
  const operand = (token: string): AttributeValue | undefined => {
    token = token.trim();
    if (token.startsWith(':')) {
      const value = values[token];
      if (value === undefined) throw new Error(`MemoryTable: no value for ${token}`);
      return value;
    }
    const call = /^(\w+)\s*\(([\s\S]*)\)$/.exec(token);
    if (call) {
      const [first = '', second = ''] = splitTopLevel(call[2]!);
      if (call[1] === 'if_not_exists') return item[attribute(first)] ?? operand(second);
      if (call[1] === 'list_append') return { L: [...(operand(first)?.L ?? []), ...(operand(second)?.L ?? [])] };
      throw new Error(`MemoryTable: function ${call[1]} is not served`);
    }
    return item[attribute(token)];
  };
  for (const [, keyword, body] of clauses) {
    const actions = splitTopLevel(body!);
    switch (keyword!.toUpperCase()) {
      case 'SET':
        for (const action of actions) {
          const at = action.indexOf('=');
          const target = attribute(action.slice(0, at).trim());
          const rhs = action.slice(at + 1).trim();
          const arithmetic = /^([\s\S]+?)\s+([+-])\s+([\s\S]+)$/.exec(rhs);
          const value = arithmetic ? addNumbers(operand(arithmetic[1]!), operand(arithmetic[3]!), arithmetic[2] === '-') : operand(rhs);
          if (value === undefined) throw new Error(`MemoryTable: SET ${target} from a missing attribute`);
          next[target] = value;
        }
        break;
      case 'ADD':
        for (const action of actions) {
          const [token, valueToken] = action.split(/\s+/) as [string, string];
          const target = attribute(token);
          const value = operand(valueToken)!;
          const current = next[target];
          if (value.N !== undefined) next[target] = addNumbers(current ?? { N: '0' }, value, false);
          else if (value.SS !== undefined) next[target] = { SS: [...new Set([...(current?.SS ?? []), ...value.SS])] };
          else if (value.NS !== undefined) next[target] = { NS: [...new Set([...(current?.NS ?? []), ...value.NS])] };
          else throw new Error(`MemoryTable: ADD of a non-number, non-set to ${target}`);
        }
        break;
      case 'REMOVE':
        for (const token of actions) delete next[attribute(token)];
        break;
      case 'DELETE':
        for (const action of actions) {
          const [token, valueToken] = action.split(/\s+/) as [string, string];
          const target = attribute(token);
          const value = operand(valueToken)!;
          const current = next[target];
          if (current?.SS && value.SS) next[target] = { SS: current.SS.filter((entry) => !value.SS!.includes(entry)) };
          if (current?.NS && value.NS) next[target] = { NS: current.NS.filter((entry) => !value.NS!.includes(entry)) };
        }
        break;
    }
  }
  return next;
}

function addNumbers(a: AttributeValue | undefined, b: AttributeValue | undefined, subtract: boolean): AttributeValue {
  const x = a?.N ?? '0';
  const y = b?.N ?? '0';
  if (/^-?\d+$/.test(x) && /^-?\d+$/.test(y)) return { N: String(subtract ? BigInt(x) - BigInt(y) : BigInt(x) + BigInt(y)) };
  return { N: String(subtract ? Number(x) - Number(y) : Number(x) + Number(y)) };
}

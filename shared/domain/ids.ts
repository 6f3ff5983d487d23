import { v7 as uuidv7 } from 'uuid';

/**
 * Ids are UUIDs (API.md). Version 7 is time-ordered, so an id doubles as a creation-order sort key
 * and "newest first" lists need no extra timestamp attribute in their index keys.
 */
export function newId(): string {
  return uuidv7();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/*
 * Postgres text cannot hold U+0000: a query parameter with one fails the whole statement (a 500
 * for a request that merely named something odd). No stored name, tag or type holds one either,
 * so the queries that take such values from clients answer without sending the NUL.
 */

/**
 * A byte-order lower bound (`name > bound`) cut at its first NUL: the same bound for every
 * NUL-free name, since above `a\0b` is exactly above `a` (and `a` is below both).
 */
export function boundWithoutNul(bound: string): string {
  const nul = bound.indexOf('\0');
  return nul < 0 ? bound : bound.slice(0, nul);
}

/** Whether `value` could equal any stored text (with a NUL it cannot). */
export function couldBeStored(value: string): boolean {
  return !value.includes('\0');
}

/** TypeORM's postgres driver returns `[rows, count]` for DELETE ... RETURNING. */
export function countRows(result: unknown): number {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[1];
  return Array.isArray(result) ? result.length : 0;
}

/** The rows a DELETE or UPDATE ... RETURNING answered, whichever shape the driver gave them in. */
export function returnedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0];
  return Array.isArray(result) ? result : [];
}

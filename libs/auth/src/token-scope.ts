/** One requested or granted scope of the Docker token protocol: `repository:<name>:pull,push`. */
export interface ScopeEntry {
  type: string;
  name: string;
  actions: string[];
}

/**
 * Parses `scope` parameters (repeatable, each possibly several space-separated scopes). The
 * name sits between the first and the last colon, so names with a port or a digest still work.
 * Malformed entries are dropped: the token simply grants nothing for them.
 */
export function parseScopes(params: string[]): ScopeEntry[] {
  const entries: ScopeEntry[] = [];
  for (const raw of params.flatMap((p) => p.split(' ')).filter(Boolean)) {
    const first = raw.indexOf(':');
    const last = raw.lastIndexOf(':');
    if (first <= 0 || last === first) continue;
    const actions = raw
      .slice(last + 1)
      .split(',')
      .filter(Boolean);
    entries.push({ type: raw.slice(0, first), name: raw.slice(first + 1, last), actions });
  }
  return entries;
}

/** One challenge of a WWW-Authenticate header; scheme and parameter names lower-cased. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses WWW-Authenticate (RFC 9110 §11.6.1): several challenges may share one header value,
 * e.g. `Basic realm="r", Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"`,
 * and quoted values may hold commas, '=' and backslash escapes.
 */
export function parseWwwAuthenticate(header: string | string[] | undefined): AuthChallenge[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const challenges: AuthChallenge[] = [];
  for (const value of values) parseValue(value, challenges);
  return challenges;
}

function parseValue(s: string, out: AuthChallenge[]): void {
  let i = 0;
  const skip = (chars: string) => {
    while (i < s.length && chars.includes(s[i])) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < s.length && !' \t,="'.includes(s[i])) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    skip(' \t,');
    const scheme = readToken();
    if (!scheme) {
      i++; // a stray '=' or '"': step over it
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    for (;;) {
      skip(' \t,');
      const mark = i;
      const name = readToken();
      skip(' \t');
      if (!name || s[i] !== '=') {
        i = mark; // not `name=`: the start of the next challenge
        break;
      }
      i++;
      skip(' \t');
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        value = readToken();
      }
      challenge.params[name.toLowerCase()] = value;
    }
  }
}

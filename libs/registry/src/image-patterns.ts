// Include/exclude patterns of image names, shared by remote and virtual repositories.

// Every registry request through a remote or virtual checks its patterns: compile each list once.
const compiled = new Map<string, RegExp | null>();
const MAX_COMPILED = 1000;

/** Whether an image name passes comma-separated include and exclude patterns. */
export function imageAllowed(image: string, includes: string, excludes: string): boolean {
  const included = includes.trim() === '' || includes.trim() === '**' || regexFor(includes)?.test(image) === true;
  return included && regexFor(excludes)?.test(image) !== true;
}

/** One expression for a comma-separated list (null for an empty one). */
function regexFor(patterns: string): RegExp | null {
  let regex = compiled.get(patterns);
  if (regex === undefined) {
    const alternatives = patterns
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map(patternToSource);
    regex = alternatives.length ? new RegExp(`^(?:${alternatives.join('|')})$`) : null;
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(patterns, regex);
  }
  return regex;
}

function patternToSource(pattern: string): string {
  return pattern
    .split('**')
    .map((part) => part.split('*').map(escapeRegex).join('[^/]*'))
    .join('.*');
}

function escapeRegex(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

// Include/exclude patterns of image names, shared by remote and virtual repositories.

/** Whether an image name passes comma-separated include and exclude patterns. */
export function imageAllowed(image: string, includes: string, excludes: string): boolean {
  const matches = (patterns: string) =>
    patterns
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .some((p) => patternToRegex(p).test(image));
  return matches(includes || '**') && !matches(excludes);
}

function patternToRegex(pattern: string): RegExp {
  const body = pattern
    .split('**')
    .map((part) => part.split('*').map(escapeRegex).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

function escapeRegex(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The image name as the upstream knows it. Docker Hub keeps official images under `library/`,
 * which clients leave out: `docker-hub/nginx` is `library/nginx` there (`libraryPrefix`, on by
 * default for Docker Hub). Other upstreams take the name as is.
 */
export function upstreamImageName(libraryPrefix: boolean, image: string): string {
  return libraryPrefix && !image.includes('/') ? `library/${image}` : image;
}

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
    .map((part) => part.split('*').map(escape).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

function escape(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

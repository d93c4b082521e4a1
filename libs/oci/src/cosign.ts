/**
 * cosign's tag convention for what it attaches to a manifest without the referrers API: its
 * digest with `:` as `-`, then `.sig` (signatures), `.att` (attestations) or `.sbom`. The
 * groups capture the digest's algorithm and hex, so `\1:\2` rebuilds it (also in SQL, whose
 * POSIX regular expressions read this source alike).
 */
export const COSIGN_TAG = /^([a-z0-9]+)-([a-f0-9]{32,})\.(sig|att|sbom)$/;

const SUFFIXES = ['sig', 'att', 'sbom'];

/** The tags cosign would attach to `digest`. */
export function cosignTagsOf(digest: string): string[] {
  const stem = digest.replace(':', '-');
  return SUFFIXES.map((suffix) => `${stem}.${suffix}`);
}

/** The same names in SQL, for a digest-valued SQL expression: a list for `IN (...)`. */
export function cosignTagsSql(digestExpression: string): string {
  return SUFFIXES.map((suffix) => `replace(${digestExpression}, ':', '-') || '.${suffix}'`).join(', ');
}

/**
 * Whether a token realm, which comes from the upstream's own 401 answer, may receive the
 * configured credentials: only the upstream's origin itself or an allow-listed host. Otherwise a
 * hostile or compromised upstream could point the realm anywhere and harvest them. An
 * allow-listed realm over plain HTTP is refused when the upstream itself is HTTPS (no downgrade).
 */
export function realmMayReceiveCredentials(realm: URL, upstream: URL, allowList: readonly string[]): boolean {
  if (realm.origin === upstream.origin) return true;
  if (realm.protocol !== 'https:' && upstream.protocol === 'https:') return false;
  const host = realm.host.toLowerCase();
  const hostname = realm.hostname.toLowerCase();
  return allowList.some((entry) => {
    const wanted = entry.trim().toLowerCase();
    if (!wanted) return false;
    // An entry with a port names one port; a bare host (or [v6] literal) names the host on any port.
    return /:\d+$/.test(wanted) ? wanted === host : wanted === hostname;
  });
}

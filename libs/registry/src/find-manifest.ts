import { ManifestQueries, StoredManifest } from '@wharf/db';
import { isDigestLike, parseDigest } from '@wharf/oci';

/** A stored manifest by reference: a digest (`sha256:...`) or a tag, as the caller checked it. */
export function findManifest(manifests: ManifestQueries, repositoryId: string, image: string, reference: string): Promise<StoredManifest | null> {
  return isDigestLike(reference) ? manifests.findByDigest(repositoryId, image, parseDigest(reference).value) : manifests.findByTag(repositoryId, image, reference);
}

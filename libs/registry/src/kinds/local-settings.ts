import type { RetentionPolicy } from '../lifecycle/retention-policy';

/** The local-only fields of the repository REST API: push rules (Nitro Repo's and Artifactory's, camelCased). */
export interface LocalFields {
  /** false: an existing tag cannot be moved to other content or deleted (pushing the same manifest again is allowed). */
  allowTagOverwrite?: boolean;
  /** After a push, tags of the image beyond this many, oldest first, are removed; 0 means unlimited. */
  maxUniqueTags?: number;
  /** Pushes and deletions only with an access token, never a password. */
  mustUseAuthTokenForPush?: boolean;
  /** A manifest is served only once a signature (cosign or Notation) refers to it. */
  requireSignature?: boolean;
  /** Bytes the repository's blobs may take (each blob once); a push beyond it is refused. 0: no quota. */
  quotaBytes?: number;
  /** Garbage collection removes manifests untagged for this many days (unless an index or a referrer's subject needs them); 0: never. */
  untaggedManifestDays?: number;
  /** Tag retention rules, applied with garbage collection or on demand; null: none. */
  retention?: RetentionPolicy | null;
}

/** What a local repository keeps in `repositories.settings`. */
export type LocalSettings = Required<LocalFields>;

export const LOCAL_FIELDS: ReadonlyArray<keyof LocalFields> = [
  'allowTagOverwrite',
  'maxUniqueTags',
  'mustUseAuthTokenForPush',
  'requireSignature',
  'quotaBytes',
  'untaggedManifestDays',
  'retention',
];

export const LOCAL_DEFAULTS: LocalSettings = {
  allowTagOverwrite: true,
  maxUniqueTags: 0,
  mustUseAuthTokenForPush: false,
  requireSignature: false,
  quotaBytes: 0,
  untaggedManifestDays: 0,
  retention: null,
};

/** Largest maxUniqueTags accepted: beyond it the rule would never apply anyway. */
export const MAX_UNIQUE_TAGS_LIMIT = 1_000_000;

/** Stored settings over the defaults (rows written before the rules existed hold none). */
export function readLocalSettings(stored: Record<string, unknown> | null | undefined): LocalSettings {
  const settings = { ...LOCAL_DEFAULTS };
  for (const field of LOCAL_FIELDS) {
    const value = stored?.[field];
    if (typeof value === typeof LOCAL_DEFAULTS[field] || (field === 'retention' && value)) (settings as Record<string, unknown>)[field] = value;
  }
  return settings;
}

import { BadRequestException, Injectable } from '@nestjs/common';
import { ImageQueries, RepositoryEntity } from '@wharf/db';
import { DockerRepository } from '../docker-repository';
import { LocalBlobService } from '../local/local-blob.service';
import { LocalDockerRepository, LocalServices } from '../local/local-docker-repository';
import { LocalManifestService } from '../local/local-manifest.service';
import { LocalUploadService } from '../local/local-upload.service';
import { parseRetention } from '../lifecycle/retention-policy';
import { LOCAL_DEFAULTS, LOCAL_FIELDS, LocalSettings, MAX_UNIQUE_TAGS_LIMIT, readLocalSettings } from './local-settings';
import { RepositoryFields, RepositoryKind, RepositoryOpener, StoredDefinition } from './repository-kind';

/** Hosted repositories: their settings are the push rules. */
@Injectable()
export class LocalKind implements RepositoryKind {
  readonly rclass = 'local' as const;
  readonly fields = LOCAL_FIELDS;
  private readonly services: Omit<LocalServices, 'mountSources'>;

  constructor(manifests: LocalManifestService, blobs: LocalBlobService, uploads: LocalUploadService, images: ImageQueries) {
    this.services = { manifests, blobs, uploads, images };
  }

  define(fields: RepositoryFields, existing?: RepositoryEntity): StoredDefinition {
    const base = existing ? readLocalSettings(existing.settings) : LOCAL_DEFAULTS;
    for (const field of ['allowTagOverwrite', 'mustUseAuthTokenForPush', 'requireSignature'] as const) {
      if (fields[field] !== undefined && typeof fields[field] !== 'boolean') throw new BadRequestException(`${field} must be a boolean`);
    }
    const max = fields.maxUniqueTags;
    if (max !== undefined && (!Number.isSafeInteger(max) || max < 0 || max > MAX_UNIQUE_TAGS_LIMIT)) {
      throw new BadRequestException(`maxUniqueTags must be an integer from 0 (unlimited) to ${MAX_UNIQUE_TAGS_LIMIT}`);
    }
    const days = fields.untaggedManifestDays;
    if (days !== undefined && (!Number.isSafeInteger(days) || days < 0 || days > 36_500))
      throw new BadRequestException('untaggedManifestDays must be a whole number of days, 0 for never');
    const quota = fields.quotaBytes;
    if (quota !== undefined && (!Number.isSafeInteger(quota) || quota < 0)) throw new BadRequestException('quotaBytes must be a whole number of bytes, 0 for no quota');
    const settings: LocalSettings = {
      allowTagOverwrite: fields.allowTagOverwrite ?? base.allowTagOverwrite,
      maxUniqueTags: max ?? base.maxUniqueTags,
      mustUseAuthTokenForPush: fields.mustUseAuthTokenForPush ?? base.mustUseAuthTokenForPush,
      requireSignature: fields.requireSignature ?? base.requireSignature,
      quotaBytes: quota ?? base.quotaBytes,
      untaggedManifestDays: days ?? base.untaggedManifestDays,
      retention: fields.retention === undefined ? base.retention : fields.retention === null ? null : parseRetention(fields.retention),
    };
    return { settings: { ...settings } };
  }

  view(repo: RepositoryEntity): Record<string, unknown> {
    return { ...readLocalSettings(repo.settings) };
  }

  async open(repo: RepositoryEntity, opener: RepositoryOpener): Promise<DockerRepository> {
    return new LocalDockerRepository(repo, { ...this.services, mountSources: (key, mayRead) => mountSources(opener, key, mayRead) });
  }
}

/**
 * The repositories a cross-repository mount may take a blob from when `from` names `key`: a
 * local repository itself, or a virtual's local members the caller may read.
 */
async function mountSources(opener: RepositoryOpener, key: string, mayRead?: (key: string) => Promise<boolean>): Promise<RepositoryEntity[]> {
  const graph = await opener.graph();
  const source = graph.repositories.find((repo) => repo.key === key);
  if (!source) return [];
  const candidates = source.rclass === 'virtual' ? await opener.members(source.id) : [source.id];
  const found: RepositoryEntity[] = [];
  for (const id of candidates) {
    const repo = await opener.findById(id);
    if (repo?.rclass === 'local' && (!mayRead || repo.key === key || (await mayRead(repo.key)))) found.push(repo);
  }
  return found;
}

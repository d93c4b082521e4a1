import { Injectable } from '@nestjs/common';
import { Db } from '../db';
import { ManifestReferenceKind } from '../entities';
import { countRows } from './count-rows';
import { couldBeStored } from './nul-free';
import { ChangeFeed } from '../change-feed';
import { ReadThroughCache } from '../read-through-cache';

export interface StoredManifest {
  id: string;
  digest: string;
  mediaType: string;
  size: number;
  content: Buffer;
  /** When found through a tag: when that tag was last set or revalidated. */
  tagUpdatedAt?: Date;
}

export interface NewManifest {
  digest: string;
  mediaType: string;
  content: Buffer;
  artifactType?: string;
  subjectDigest?: string;
  annotations?: Record<string, string>;
  references: Array<{ kind: ManifestReferenceKind; digest: string }>;
}

export interface ReferrerRow {
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  annotations: Record<string, string> | null;
}

/** A manifest's bytes, found by its image and digest. */
export interface ManifestContentRow {
  imageId: string;
  digest: string;
  mediaType: string;
  size: number;
  content: Buffer;
}

const MANIFEST_COLUMNS = `m.id, m.digest, m.media_type AS "mediaType", m.size, m.content`;

@Injectable()
export class ManifestQueries {
  // The hot path of pulls: tag -> manifest, in memory, emptied on any tag or repository change.
  private readonly byTag: ReadThroughCache<StoredManifest | null>;

  constructor(
    private readonly db: Db,
    private readonly feed: ChangeFeed,
  ) {
    this.byTag = new ReadThroughCache(feed, ['tags', 'repositories'], 5_000);
  }

  async findByDigest(repositoryId: string, image: string, digest: string): Promise<StoredManifest | null> {
    const rows = await this.db.query(
      `SELECT ${MANIFEST_COLUMNS} FROM manifests m JOIN images i ON i.id = m.image_id
       WHERE i.repository_id = $1 AND i.name = $2 AND m.digest = $3`,
      [repositoryId, image, digest],
    );
    return rows[0] ?? null;
  }

  findByTag(repositoryId: string, image: string, tag: string): Promise<StoredManifest | null> {
    return this.byTag.get(`${repositoryId}\n${image}\n${tag}`, () => this.loadByTag(repositoryId, image, tag));
  }

  private async loadByTag(repositoryId: string, image: string, tag: string): Promise<StoredManifest | null> {
    const rows = await this.db.query(
      `SELECT ${MANIFEST_COLUMNS}, t.updated_at AS "tagUpdatedAt" FROM tags t JOIN images i ON i.id = t.image_id JOIN manifests m ON m.id = t.manifest_id
       WHERE i.repository_id = $1 AND i.name = $2 AND t.name = $3`,
      [repositoryId, image, tag],
    );
    return rows[0] ?? null;
  }

  /** Of the given digests, those that are manifests of the image. */
  async existingDigests(imageId: string | null, digests: string[]): Promise<Set<string>> {
    if (!imageId || digests.length === 0) return new Set();
    // Inside the pushing transaction the children found stay: garbage collection skips manifests held.
    const rows = await this.db.query(`SELECT digest FROM manifests WHERE image_id = $1 AND digest = ANY($2) FOR KEY SHARE`, [imageId, digests]);
    return new Set(rows.map((r: { digest: string }) => r.digest));
  }

  /** Stores a manifest and what it references; pushing the same bytes again is a no-op. */
  async upsert(imageId: string, manifest: NewManifest): Promise<string> {
    const inserted = await this.db.query(
      `INSERT INTO manifests (image_id, digest, media_type, size, content, artifact_type, subject_digest, annotations)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (image_id, digest) DO NOTHING RETURNING id`,
      [
        imageId,
        manifest.digest,
        manifest.mediaType,
        manifest.content.length,
        manifest.content,
        manifest.artifactType ?? null,
        manifest.subjectDigest ?? null,
        manifest.annotations ? JSON.stringify(manifest.annotations) : null,
      ],
    );
    if (inserted.length === 0) {
      const existing = await this.db.query(`SELECT id FROM manifests WHERE image_id = $1 AND digest = $2`, [imageId, manifest.digest]);
      return existing[0].id;
    }
    const id: string = inserted[0].id;
    if (manifest.references.length > 0) {
      await this.db.query(
        `INSERT INTO manifest_references (manifest_id, kind, digest)
         SELECT $1, kind, digest FROM unnest($2::varchar[], $3::varchar[]) AS r(kind, digest) ON CONFLICT DO NOTHING`,
        [id, manifest.references.map((r) => r.kind), manifest.references.map((r) => r.digest)],
      );
    }
    return id;
  }

  /** Deletes a manifest and, through the cascade, every tag that points at it. */
  async deleteByDigest(repositoryId: string, image: string, digest: string): Promise<boolean> {
    const rows = await this.db.query(
      `DELETE FROM manifests m USING images i
       WHERE i.id = m.image_id AND i.repository_id = $1 AND i.name = $2 AND m.digest = $3 RETURNING m.id`,
      [repositoryId, image, digest],
    );
    await this.feed.publish('tags');
    return countRows(rows) > 0;
  }

  async referrers(repositoryId: string, image: string, subjectDigest: string, artifactType?: string): Promise<ReferrerRow[]> {
    if (artifactType !== undefined && !couldBeStored(artifactType)) return [];
    const params: unknown[] = [repositoryId, image, subjectDigest];
    let filter = '';
    if (artifactType !== undefined) {
      params.push(artifactType);
      filter = 'AND m.artifact_type = $4';
    }
    return this.db.query(
      `SELECT m.digest, m.media_type AS "mediaType", m.size, m.artifact_type AS "artifactType", m.annotations
       FROM manifests m JOIN images i ON i.id = m.image_id
       WHERE i.repository_id = $1 AND i.name = $2 AND m.subject_digest = $3 ${filter}
       ORDER BY m.created_at, m.digest`,
      params,
    );
  }

  /** The manifests found of the (image, digest) pairs, in no particular order; absent ones are left out. */
  async contents(wanted: Array<{ imageId: string; digest: string }>): Promise<ManifestContentRow[]> {
    if (wanted.length === 0) return [];
    return this.db.query(
      `SELECT m.image_id AS "imageId", m.digest, m.media_type AS "mediaType", m.size, m.content
       FROM unnest($1::uuid[], $2::varchar[]) AS w(image_id, digest)
       JOIN manifests m ON m.image_id = w.image_id AND m.digest = w.digest`,
      [wanted.map((each) => each.imageId), wanted.map((each) => each.digest)],
    );
  }
}

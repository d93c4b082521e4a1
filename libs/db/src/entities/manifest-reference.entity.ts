import { Entity, Index, PrimaryColumn } from 'typeorm';

export type ManifestReferenceKind = 'blob' | 'manifest';

/** What a manifest points at: its config and layers (blobs) or an index's child manifests. */
@Entity('manifest_references')
@Index(['digest'])
export class ManifestReferenceEntity {
  @PrimaryColumn({ name: 'manifest_id', type: 'uuid' })
  manifestId: string;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  kind: ManifestReferenceKind;

  @PrimaryColumn({ type: 'varchar', length: 200 })
  digest: string;
}

import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A manifest of an image, stored as the exact bytes pushed (capped at 4 MiB by default). */
@Entity('manifests')
@Index(['imageId', 'digest'], { unique: true })
@Index(['imageId', 'subjectDigest'])
export class ManifestEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'image_id', type: 'uuid' })
  imageId: string;

  @Column({ type: 'varchar', length: 200 })
  digest: string;

  @Column({ name: 'media_type', type: 'varchar', length: 255 })
  mediaType: string;

  @Column({ type: 'integer' })
  size: number;

  @Column({ type: 'bytea' })
  content: Buffer;

  @Column({ name: 'artifact_type', type: 'varchar', length: 255, nullable: true })
  artifactType: string | null;

  @Column({ name: 'subject_digest', type: 'varchar', length: 200, nullable: true })
  subjectDigest: string | null;

  @Column({ type: 'jsonb', nullable: true })
  annotations: Record<string, string> | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

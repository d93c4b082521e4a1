import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { bigintToNumber } from './bigint-transformer';

/** A blob upload in progress; in the DB so a chunked upload survives a restart. */
@Entity('upload_sessions')
export class UploadSessionEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'repository_id', type: 'uuid' })
  repositoryId: string;

  @Column({ name: 'image_name', type: 'varchar', length: 255 })
  imageName: string;

  /** Bytes received so far. */
  @Column({ type: 'bigint', default: 0, transformer: bigintToNumber })
  size: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

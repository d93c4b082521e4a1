import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { bigintToNumber } from './bigint-transformer';

/** A blob whose verified bytes are in the store: one row per digest for the whole server. */
@Entity('blobs')
export class BlobEntity {
  @PrimaryColumn({ type: 'varchar', length: 200 })
  digest: string;

  @Column({ type: 'bigint', transformer: bigintToNumber })
  size: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

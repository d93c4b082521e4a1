import { Column, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity('tags')
@Index(['manifestId'])
export class TagEntity {
  @PrimaryColumn({ name: 'image_id', type: 'uuid' })
  imageId: string;

  @PrimaryColumn({ type: 'varchar', length: 128 })
  name: string;

  @Column({ name: 'manifest_id', type: 'uuid' })
  manifestId: string;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

import { CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A repository may serve a blob only through a link: the unit of access and of GC liveness. */
@Entity('repository_blobs')
@Index(['digest'])
export class RepositoryBlobEntity {
  @PrimaryColumn({ name: 'repository_id', type: 'uuid' })
  repositoryId: string;

  @PrimaryColumn({ type: 'varchar', length: 200 })
  digest: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

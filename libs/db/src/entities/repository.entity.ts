import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type RepositoryClass = 'local' | 'remote' | 'virtual';

/**
 * A named repository (Artifactory's "repo key"); kind-specific settings live in `settings`, a
 * virtual's members in `virtual_members` rows.
 */
@Entity('repositories')
export class RepositoryEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 64, unique: true })
  key: string;

  @Column({ type: 'varchar', length: 16 })
  rclass: RepositoryClass;

  @Column({ name: 'package_type', type: 'varchar', length: 16, default: 'docker' })
  packageType: string;

  @Column({ type: 'text', default: '' })
  description: string;

  /** Whether anyone, logged in or not, may pull from it. */
  @Column({ name: 'anonymous_read', type: 'boolean', default: false })
  anonymousRead: boolean;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  settings: Record<string, unknown>;

  /** Virtual repositories: where pushes through it go (a local member); null when none. */
  @Column({ name: 'default_deployment_repository_id', type: 'uuid', nullable: true })
  defaultDeploymentRepositoryId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

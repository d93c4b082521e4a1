import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type RepositoryAction = 'read' | 'write' | 'delete' | 'manage';

/** Who may do what to which repositories; principals are referred to by name, as in Artifactory. */
export interface PermissionPrincipals {
  users: Record<string, RepositoryAction[]>;
  groups: Record<string, RepositoryAction[]>;
}

@Entity('permissions')
export class PermissionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 64, unique: true })
  name: string;

  /** Repository keys or patterns with `*`, e.g. `docker-*`. */
  @Column({ type: 'text', array: true })
  repositories: string[];

  @Column({ type: 'jsonb' })
  principals: PermissionPrincipals;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

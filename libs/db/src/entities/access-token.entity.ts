import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { RepositoryAction } from './permission.entity';

/** A named, scoped, expiring secret for CI and scripts. Only a hash of the secret is kept. */
@Entity('access_tokens')
export class AccessTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 128 })
  name: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  /** sha256 of the secret: it has 256 bits of entropy, so a slow hash adds nothing. */
  @Column({ name: 'secret_hash', type: 'varchar', length: 64 })
  secretHash: string;

  @Column({ type: 'text', array: true })
  repositories: string[];

  @Column({ type: 'text', array: true })
  actions: RepositoryAction[];

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

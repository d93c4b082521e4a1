import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** The JWT signing key, in the database so every instance and every restart uses the same one. */
@Entity('signing_keys')
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ name: 'private_key_pem', type: 'text' })
  privateKeyPem: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

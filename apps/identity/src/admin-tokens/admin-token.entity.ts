import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A platform admin token, stored only as its SHA-256 hash. */
@Entity({ name: 'admin_tokens' })
export class AdminTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'token_hash', type: 'char', length: 64, unique: true })
  tokenHash!: string;

  /** `bootstrap`: generated at first start; `environment`: from TENGINE_ADMIN_TOKEN. */
  @Column({ type: 'text' })
  source!: 'bootstrap' | 'environment';

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}

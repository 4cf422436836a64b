import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

import type { Project } from '@tengine/contracts';

/** A project: the unit of isolation for keys, integrations and tools. */
@Entity({ name: 'projects' })
export class ProjectEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  environment!: Project['environment'];

  /** Bumped with every tool change of the project (bigint: read as a string by pg). */
  @Column({ name: 'tool_list_version', type: 'bigint', default: 0 })
  toolListVersion!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

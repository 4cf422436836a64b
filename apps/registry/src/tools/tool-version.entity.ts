import { Column, Entity, PrimaryColumn } from 'typeorm';

import type { AuthStrategy, HttpMethod, Scope, ToolAnnotations } from '@tengine/contracts';

/** One immutable version of a tool's definition, with its sealed secret. */
@Entity({ name: 'tool_versions' })
export class ToolVersionEntity {
  @PrimaryColumn({ name: 'tool_id', type: 'uuid' })
  toolId!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  description!: string;

  @Column({ type: 'text' })
  method!: HttpMethod;

  @Column({ name: 'base_url', type: 'text' })
  baseUrl!: string;

  @Column({ name: 'endpoint_path', type: 'text' })
  endpointPath!: string;

  @Column({ name: 'query_template', type: 'json', nullable: true })
  queryTemplate!: Record<string, string> | null;

  @Column({ name: 'header_template', type: 'json', nullable: true })
  headerTemplate!: Record<string, string> | null;

  @Column({ name: 'body_template', type: 'json', nullable: true })
  bodyTemplate!: unknown;

  @Column({ name: 'input_schema', type: 'json' })
  inputSchema!: Record<string, unknown>;

  @Column({ name: 'auth_strategy', type: 'text' })
  authStrategy!: AuthStrategy;

  /** Sealed by `@tengine/secrets` (`v1.<kid>.…`), bound to (project, tool). Never returned. */
  @Column({ name: 'auth_secret', type: 'text', nullable: true })
  authSecret!: string | null;

  @Column({ name: 'auth_secret_last4', type: 'text', nullable: true })
  authSecretLast4!: string | null;

  @Column({ name: 'require_member', type: 'boolean' })
  requireMember!: boolean;

  @Column({ name: 'is_enabled', type: 'boolean' })
  isEnabled!: boolean;

  @Column({ name: 'timeout_ms', type: 'integer' })
  timeoutMs!: number;

  @Column({ name: 'required_scope', type: 'text', nullable: true })
  requiredScope!: Scope | null;

  @Column({ type: 'json' })
  annotations!: ToolAnnotations;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

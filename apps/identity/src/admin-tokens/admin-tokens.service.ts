import { createHash, randomBytes } from 'node:crypto';

import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';

import type { AdminTokenBootstrapReply } from '@tengine/contracts';
import { RAW_ENVIRONMENT } from '@tengine/runtime';

import { loadIdentityEnv } from '../env.schema.js';
import { AdminTokensRepository } from './admin-tokens.repository.js';

/** Prefix of generated admin tokens, so they are recognisable in secret scanners. */
export const ADMIN_TOKEN_PREFIX = 'tng_adm_';

/** SHA-256 hex of a token; admin tokens are high-entropy, so a fast hash is enough. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

@Injectable()
export class AdminTokensService implements OnModuleInit {
  private readonly environmentToken: string | undefined;

  constructor(
    private readonly repository: AdminTokensRepository,
    @Inject(RAW_ENVIRONMENT) environment: Readonly<Record<string, string | undefined>>,
  ) {
    this.environmentToken = loadIdentityEnv(environment).TENGINE_ADMIN_TOKEN;
  }

  /** Registers TENGINE_ADMIN_TOKEN's hash at boot, so the configured token works at once. */
  async onModuleInit(): Promise<void> {
    if (this.environmentToken)
      await this.repository.insertIfAbsent(hashToken(this.environmentToken), 'environment');
  }

  /** The admin token row id for a presented token, or undefined when it is not a live admin token. */
  async verify(token: string): Promise<string | undefined> {
    const record = await this.repository.findLiveByHash(hashToken(token));
    return record?.id;
  }

  /**
   * Makes sure an admin token exists. Creates one only when none is configured and none exists;
   * the plaintext is returned in that reply only and never stored.
   */
  async bootstrap(): Promise<AdminTokenBootstrapReply> {
    if (this.environmentToken) return { created: false, token: null, source: 'environment' };
    if ((await this.repository.countLive()) > 0)
      return { created: false, token: null, source: 'existing' };
    const token = `${ADMIN_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const created = await this.repository.insertIfAbsent(hashToken(token), 'bootstrap');
    return created
      ? { created: true, token, source: 'bootstrap' }
      : { created: false, token: null, source: 'existing' };
  }
}

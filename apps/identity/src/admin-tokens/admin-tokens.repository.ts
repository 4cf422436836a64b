import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, Repository } from 'typeorm';

import { DATA_SOURCE } from '@tengine/runtime';

import { AdminTokenEntity } from './admin-token.entity.js';

@Injectable()
export class AdminTokensRepository {
  private readonly repository: Repository<AdminTokenEntity>;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.repository = dataSource.getRepository(AdminTokenEntity);
  }

  countLive(): Promise<number> {
    return this.repository.createQueryBuilder('token').where('token.revoked_at IS NULL').getCount();
  }

  /** Inserts a token hash; false when an equal hash or a live bootstrap token already exists. */
  async insertIfAbsent(tokenHash: string, source: AdminTokenEntity['source']): Promise<boolean> {
    const result = await this.repository
      .createQueryBuilder()
      .insert()
      .into(AdminTokenEntity)
      .values({ tokenHash, source })
      .orIgnore()
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  findLiveByHash(tokenHash: string): Promise<AdminTokenEntity | null> {
    return this.repository
      .createQueryBuilder('token')
      .where('token.token_hash = :tokenHash AND token.revoked_at IS NULL', { tokenHash })
      .getOne();
  }
}

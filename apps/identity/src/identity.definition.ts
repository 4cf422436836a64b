import { baselineMigration } from '@tengine/persistence';
import type { BackendServiceDefinition } from '@tengine/runtime';

import { AdminTokenEntity } from './admin-tokens/admin-token.entity.js';
import { IdentityModule } from './identity.module.js';
import { AdminTokens1763769600001 } from './migrations/1763769600001-admin-tokens.js';
import { Credentials1763769600002 } from './migrations/1763769600002-credentials.js';

/** Port of the identity service's health and metrics server when it runs on its own. */
export const IDENTITY_DEFAULT_PORT = 3002;

/** The identity service: credentials and their verification. */
export const identityService: BackendServiceDefinition = {
  name: 'identity',
  schema: {
    schema: 'identity',
    entities: [AdminTokenEntity],
    migrations: [baselineMigration('identity'), AdminTokens1763769600001, Credentials1763769600002],
  },
  imports: [IdentityModule],
};

import { Module } from '@nestjs/common';

import { AdminTokensController } from './admin-tokens/admin-tokens.controller.js';
import { AdminTokensRepository } from './admin-tokens/admin-tokens.repository.js';
import { AdminTokensService } from './admin-tokens/admin-tokens.service.js';
import { ApiKeysController } from './api-keys/api-keys.controller.js';
import { ApiKeysRepository } from './api-keys/api-keys.repository.js';
import { ApiKeysService } from './api-keys/api-keys.service.js';
import { AssertionKeysController } from './assertion-keys/assertion-keys.controller.js';
import { AssertionKeysRepository } from './assertion-keys/assertion-keys.repository.js';
import { AssertionKeysService } from './assertion-keys/assertion-keys.service.js';
import { CredentialsController } from './credentials/credentials.controller.js';
import { CredentialsService } from './credentials/credentials.service.js';
import { RegistryClient } from './registry.client.js';
import { AssertionVerifier } from './sessions/assertion-verifier.js';
import { SessionsController } from './sessions/sessions.controller.js';
import { SessionsRepository } from './sessions/sessions.repository.js';
import { SessionsService } from './sessions/sessions.service.js';
import { SigningKeysRepository } from './signing-keys/signing-keys.repository.js';
import { SigningKeysService } from './signing-keys/signing-keys.service.js';

/** Every credential: admin tokens, API keys, assertion keys, member sessions, signing keys. */
@Module({
  controllers: [
    AdminTokensController,
    ApiKeysController,
    AssertionKeysController,
    CredentialsController,
    SessionsController,
  ],
  providers: [
    AdminTokensRepository,
    AdminTokensService,
    ApiKeysRepository,
    ApiKeysService,
    AssertionKeysRepository,
    AssertionKeysService,
    AssertionVerifier,
    CredentialsService,
    RegistryClient,
    SessionsRepository,
    SessionsService,
    SigningKeysRepository,
    SigningKeysService,
  ],
})
export class IdentityModule {}

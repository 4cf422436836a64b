import type { IDENTITY_ERROR_CODES } from '@tengine/contracts';

import type { HttpErrorSpec } from './http-error-spec.js';

const unauthorized = (fix: string): HttpErrorSpec => ({ status: 401, title: 'Unauthorized', fix });

export const IDENTITY_HTTP_ERRORS: Record<(typeof IDENTITY_ERROR_CODES)[number], HttpErrorSpec> = {
  IDENTITY_CREDENTIAL_MISSING: unauthorized(
    'Send the project API key (tengine_…) or a member session token (tng_mst_…) as Authorization: Bearer <token>, or the key as X-API-Key.',
  ),
  IDENTITY_INVALID_API_KEY: unauthorized(
    'Check the API key matches an active key of your project (Integrations); create a new one if it was revoked.',
  ),
  IDENTITY_INVALID_CREDENTIAL: unauthorized(
    'The token is malformed, revoked or not issued by this tengine; mint a new session token or use a valid key.',
  ),
  IDENTITY_INVALID_ASSERTION: unauthorized(
    'Ensure exp ≤ 60 s after iat, kid matches an active assertion key, aud is tengine:project:<project_id>, jti is new.',
  ),
  IDENTITY_SESSION_EXPIRED: unauthorized(
    'Mint a new session token; cache it and refresh shortly before its 15-minute expiry.',
  ),
  IDENTITY_SCOPE_MISSING: {
    status: 403,
    title: 'Forbidden',
    fix: 'Use an API key that has the named scope, or create one with it.',
  },
  IDENTITY_ADMIN_REQUIRED: {
    status: 403,
    title: 'Forbidden',
    fix: 'This operation spans projects: authenticate with the platform admin token.',
  },
  IDENTITY_PROJECT_REQUIRED: {
    status: 400,
    title: 'Bad Request',
    fix: 'With the admin token, name the project in the X-Project-Id header.',
  },
  IDENTITY_EXTERNAL_ID_DISABLED: {
    status: 403,
    title: 'Forbidden',
    fix: 'Use member_assertion (a JWT signed by your backend) in production.',
  },
  IDENTITY_MEMBER_UNRESOLVED: {
    status: 400,
    title: 'Bad Request',
    fix: 'Ensure sub is a non-empty string identifying your end user.',
  },
  IDENTITY_MEMBER_INPUT_MISSING: {
    status: 400,
    title: 'Bad Request',
    fix: 'Include member_assertion in the request body.',
  },
  IDENTITY_KEY_MISSING_INTEGRATION: {
    status: 400,
    title: 'Bad Request',
    fix: 'Re-check the key; create it from an Integration, not from project settings.',
  },
  IDENTITY_PUBLIC_KEY_INVALID: {
    status: 400,
    title: 'Bad Request',
    fix: 'Re-export the public key as PEM (openssl ec -in private_key.pem -pubout -out public_key.pem) for the chosen algorithm.',
  },
  IDENTITY_ALGORITHM_UNSUPPORTED: {
    status: 400,
    title: 'Bad Request',
    fix: 'Use one of ES256, ES384, Ed25519, RS256.',
  },
  IDENTITY_KID_TAKEN: {
    status: 409,
    title: 'Conflict',
    fix: 'Use a different kid, or deactivate the existing key first.',
  },
  IDENTITY_API_KEY_NOT_FOUND: {
    status: 404,
    title: 'Not found',
    fix: 'List your keys with GET /api/v1/api-keys.',
  },
  IDENTITY_ASSERTION_KEY_NOT_FOUND: {
    status: 404,
    title: 'Not found',
    fix: 'List your assertion keys with GET /api/v1/assertion-keys.',
  },
  IDENTITY_SESSION_NOT_FOUND: {
    status: 404,
    title: 'Not found',
    fix: 'Check the session id (the jti of the token).',
  },
};

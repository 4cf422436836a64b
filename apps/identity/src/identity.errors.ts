import { DomainError, type AssertionFailureReason } from '@tengine/contracts';

/** The reference's 401 for a bad, revoked or foreign API key. */
export function invalidApiKey(): DomainError {
  return new DomainError('IDENTITY_INVALID_API_KEY', 'Invalid or inactive API key');
}

/** The reference's 401 for a refused member assertion, with the reason after the colon. */
export function invalidAssertion(reason: AssertionFailureReason): DomainError {
  return new DomainError('IDENTITY_INVALID_ASSERTION', `Invalid member assertion: ${reason}`, {
    details: { reason },
  });
}

import { DomainError } from '@tengine/contracts';

/** The `REGISTRY_PROJECT_NOT_FOUND` error, worded the same whatever the reason. */
export function projectNotFound(): DomainError {
  return new DomainError('REGISTRY_PROJECT_NOT_FOUND', 'Project not found');
}

import { DomainError, type ValidationIssue } from '@tengine/contracts';

/** A registration rule of the reference (400); `message` is its exact `detail`. */
export function toolInvalid(message: string, field?: string): DomainError {
  return new DomainError(
    'REGISTRY_TOOL_INVALID',
    message,
    field === undefined ? undefined : { details: { field } },
  );
}

/** Malformed JSON Schema or invalid field values (422), each failing field named in `issues`. */
export function toolValidationFailed(issues: readonly ValidationIssue[]): DomainError {
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  return new DomainError('VALIDATION_FAILED', `Tool definition is invalid: ${summary}`, {
    details: { issues },
  });
}

/** One failing field. */
export function issue(path: string, message: string): ValidationIssue {
  return { path, message };
}

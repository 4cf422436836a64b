import { DomainError, MAX_TOOLS_PER_PROJECT } from '@tengine/contracts';

import { projectNotFound } from '../projects/project-errors.js';
import type { ToolWriteResult } from './tools.repository.js';

/** The same answer whether the tool never existed, was deleted, or belongs to another project. */
export function toolNotFound(): DomainError {
  return new DomainError('REGISTRY_TOOL_NOT_FOUND', 'Tool not found');
}

export function versionConflict(expected: number | undefined, current: number): DomainError {
  return new DomainError(
    'REGISTRY_TOOL_VERSION_CONFLICT',
    expected === undefined
      ? `The tool changed while this request was applied (now at version ${current}); retry`
      : `expected_version is ${expected} but the tool is at version ${current}`,
    {
      details: {
        currentVersion: current,
        ...(expected === undefined ? {} : { expectedVersion: expected }),
      },
    },
  );
}

export function nameTaken(name: string | undefined): DomainError {
  return new DomainError(
    'REGISTRY_TOOL_NAME_TAKEN',
    name === undefined
      ? 'A tool with one of these names already exists in this project'
      : `A tool named "${name}" already exists in this project`,
  );
}

export function toolLimitReached(): DomainError {
  return new DomainError(
    'REGISTRY_TOOL_LIMIT_REACHED',
    `A project can have at most ${MAX_TOOLS_PER_PROJECT} tools`,
  );
}

/** The result of a successful write, or the domain error of a failed one. */
export function unwrapWrite<T extends object>(
  result: ToolWriteResult<T>,
  context: { readonly expectedVersion?: number | undefined; readonly name?: string | undefined },
): T & { toolListVersion: number } {
  switch (result.kind) {
    case 'ok':
      return result;
    case 'project_not_found':
      throw projectNotFound();
    case 'not_found':
      throw toolNotFound();
    case 'conflict':
      throw versionConflict(context.expectedVersion, result.currentVersion);
    case 'name_taken':
      throw nameTaken(context.name);
    case 'limit_reached':
      throw toolLimitReached();
  }
}

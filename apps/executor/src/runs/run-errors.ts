import { EXECUTOR_ERRORS, type ExecutorErrorCode, type RunError } from '@tengine/contracts';

/** Most characters of an excerpt (upstream body or error description) returned in a reply. */
export const EXCERPT_MAX_LENGTH = 512;

/** The error table entry of `code` as a Run error, with optional upstream status and excerpt. */
export function runError(
  code: ExecutorErrorCode,
  extra: { upstreamStatus?: number | undefined; excerpt?: string | undefined } = {},
): RunError {
  const { status, detail, fix } = EXECUTOR_ERRORS[code];
  return {
    code,
    status,
    detail,
    fix,
    ...(extra.upstreamStatus === undefined ? {} : { upstreamStatus: extra.upstreamStatus }),
    ...(extra.excerpt === undefined || extra.excerpt === ''
      ? {}
      : { excerpt: extra.excerpt.slice(0, EXCERPT_MAX_LENGTH) }),
  };
}

import { TOOL_ERROR_DETAILS } from '@tengine/contracts';

import { issue, toolInvalid, toolValidationFailed } from './tool-errors.js';

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

function hostnameOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/**
 * Checks a tool's `base_url` and returns its normalized origin (`https://api.example.com`). It must
 * be HTTPS (or `http://` for a host listed in `allowHttpHosts`), origin-only, without userinfo,
 * query or fragment, and with a static host, so a tool can never be pointed elsewhere at call time.
 */
export function normalizeBaseUrl(raw: string, allowHttpHosts: ReadonlySet<string>): string {
  if (/\s/.test(raw)) {
    throw toolValidationFailed([issue('base_url', 'must not contain whitespace')]);
  }
  const scheme = SCHEME.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== 'https' && scheme !== 'http') throw toolInvalid(TOOL_ERROR_DETAILS.baseUrlHttps);
  if (raw.includes('{{') || raw.includes('}}')) {
    throw toolInvalid('base_url must have a static host (no {{…}} placeholders)');
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw toolValidationFailed([issue('base_url', 'must be a valid URL')]);
  }
  if (scheme === 'http' && !allowHttpHosts.has(hostnameOf(url))) {
    throw toolInvalid(TOOL_ERROR_DETAILS.baseUrlHttps);
  }
  // Judge the text as written: URL would silently drop an empty "?", "#" or "@".
  const afterScheme = raw.slice(scheme.length + 3);
  const authorityEnd = afterScheme.search(/[/?#]/);
  const authority = authorityEnd === -1 ? afterScheme : afterScheme.slice(0, authorityEnd);
  const rest = authorityEnd === -1 ? '' : afterScheme.slice(authorityEnd);
  if (url.username !== '' || url.password !== '' || authority.includes('@')) {
    throw toolInvalid('base_url must not contain credentials (userinfo)');
  }
  const path = rest.replace(/[?#].*$/s, '');
  if (path !== '' && path !== '/') throw toolInvalid(TOOL_ERROR_DETAILS.baseUrlOriginOnly);
  if (rest !== path) throw toolInvalid('base_url must be origin-only (no query or fragment)');
  return url.origin;
}

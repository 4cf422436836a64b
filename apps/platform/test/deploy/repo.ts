import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { parseAllDocuments, parse } from 'yaml';

/** The repository root (this file is apps/platform/test/deploy/repo.ts). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');

/** An absolute path inside the repository. */
export function repoPath(...segments: string[]): string {
  return join(REPO_ROOT, ...segments);
}

export function readRepoFile(...segments: string[]): string {
  return readFileSync(repoPath(...segments), 'utf8');
}

export function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

export function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** A plain (non-array) YAML/JSON object. */
export type Plain = Record<string, unknown>;

export function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses one YAML document; errors name the file. `<<` merge keys are honoured, as compose does. */
export function parseYaml(text: string, file: string): unknown {
  try {
    return parse(text, { merge: true, prettyErrors: true });
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

/** Parses every document of a multi-document YAML file, dropping empty ones. */
export function parseYamlDocuments(text: string, file: string): unknown[] {
  return parseAllDocuments(text, { prettyErrors: true })
    .map((document) => {
      if (document.errors.length > 0) {
        throw new Error(`${file}: ${document.errors.map((error) => error.message).join('; ')}`);
      }
      return document.toJS() as unknown;
    })
    .filter((value) => value !== null && value !== undefined);
}

/** The root package.json. */
export function rootPackage(): {
  version: string;
  workspaces: string[];
  scripts: Record<string, string>;
} {
  return JSON.parse(readRepoFile('package.json')) as {
    version: string;
    workspaces: string[];
    scripts: Record<string, string>;
  };
}

/** Splits an image reference into name, tag and digest. */
export function parseImage(reference: string): {
  name: string;
  tag: string | null;
  digest: string | null;
} {
  const [withoutDigest = '', digest = null] = reference.split('@');
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon < 0
    ? { name: withoutDigest, tag: null, digest }
    : { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), digest };
}

/** Pinned: a digest, or a tag other than `latest`. */
export function isPinnedImage(reference: string): boolean {
  const { tag, digest } = parseImage(reference);
  if (digest !== null) return /^sha256:[0-9a-f]{64}$/.test(digest);
  return tag !== null && tag !== '' && tag !== 'latest';
}

/** A YAML scalar as text (objects as JSON), for messages and for values read as strings. */
export function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return JSON.stringify(value);
}

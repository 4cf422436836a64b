// Installs dependencies when node_modules is missing or older than the lockfile, so that
// `npm start` and `npm test` work on a fresh clone. Prefers the exact lockfile (npm ci) and falls
// back to npm install when the registry cannot serve an optional platform package it names.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const marker = 'node_modules/.package-lock.json';
const stale =
  !existsSync(marker) || statSync(marker).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  process.stderr.write('Installing dependencies (first run)...\n');
  const run = (command) => execSync(command, { stdio: 'inherit' });
  try {
    run('npm ci --no-audit --no-fund');
  } catch {
    process.stderr.write('npm ci refused the lockfile; falling back to npm install.\n');
    run('npm install --no-audit --no-fund');
  }
}

/**
 * Where a repository's registry lives: `REPO/registry.json` names a
 * PostgreSQL database (`{"registry": "postgresql://user@host:port/db"}`);
 * without it the registry is `REPO/registry.sqlite`, as always. Credentials
 * never enter the repository: a URL with a password is refused, and libpq
 * reads the password from PGPASSWORD or ~/.pgpass itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkycalError, errors } from '../errors.js';

export const REGISTRY_CONFIG = 'registry.json';
export const SQLITE_REGISTRY = 'registry.sqlite';

export type RegistryLocation =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgresql'; readonly url: string };

/**
 * Check a `postgresql://` (or `postgres://`) URL: USAGE when it is not one,
 * or when it carries a password (it would be written to REPO/registry.json).
 */
export function checkPostgresUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw errors.usage(`--registry: expected postgresql://USER@HOST[:PORT]/DATABASE, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw errors.usage(`--registry: expected postgresql://USER@HOST[:PORT]/DATABASE, got ${JSON.stringify(url)}`);
  }
  if (parsed.password !== '' || parsed.searchParams.has('password')) {
    throw errors.usage('--registry: the URL holds a password, which would be written to the repository; ' +
      'give it in PGPASSWORD or ~/.pgpass instead');
  }
  if (parsed.pathname.replace(/^\//, '') === '') throw errors.usage(`--registry: ${url} names no database (postgresql://USER@HOST/DATABASE)`);
  return url;
}

/** The registry a repository folder names (registry.json, else registry.sqlite); NOT_FOUND when neither exists. */
export function registryLocation(root: string): RegistryLocation {
  const config = join(root, REGISTRY_CONFIG);
  if (existsSync(config)) {
    let url: unknown;
    try {
      url = (JSON.parse(readFileSync(config, 'utf8')) as { registry?: unknown }).registry;
    } catch (e) {
      throw SkycalError.isSkycalError(e) ? e : errors.badInput(config, `not a registry config (${(e as Error).message})`);
    }
    if (typeof url !== 'string') throw errors.badInput(config, 'expected {"registry": "postgresql://USER@HOST/DATABASE"}');
    try {
      return { kind: 'postgresql', url: checkPostgresUrl(url) };
    } catch (e) {
      throw errors.badInput(config, (e as Error).message.replace(/^--registry: /, ''));
    }
  }
  const path = join(root, SQLITE_REGISTRY);
  if (!existsSync(path)) throw errors.notFound(`repository ${root} (no ${SQLITE_REGISTRY} or ${REGISTRY_CONFIG}; run skycal init)`);
  return { kind: 'sqlite', path };
}

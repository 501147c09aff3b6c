import { readFileSync } from 'node:fs';

/**
 * Descriptors kept free of device sessions and HTTP connections alike: listeners, the database pool (at most
 * 200, TELEHUB_DB_POOL_SIZE), the readiness connection, log files and static files being served. Without them,
 * a hub at the open-files limit could no longer reopen a database connection.
 */
export const RESERVED_FILE_DESCRIPTORS = 256;

/** The process's soft open-files limit (RLIMIT_NOFILE) from /proc/self/limits; undefined where unknown. */
export function openFilesLimit(limitsText: string | undefined): number | undefined {
  const line = limitsText?.split('\n').find((text) => text.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  if (soft === undefined || soft === 'unlimited') return undefined;
  const value = Number(soft);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * The default TELEHUB_HTTP_MAX_CONNECTIONS: the wanted number, unless the open-files limit is so low that it
 * would take more than a quarter of what the reserve leaves (the rest is for device sessions).
 */
export function defaultHttpMaxConnections(wanted: number, limit: number | undefined): number {
  if (limit === undefined) return wanted;
  return Math.max(1, Math.min(wanted, Math.floor((limit - RESERVED_FILE_DESCRIPTORS) / 4)));
}

/**
 * The default TELEHUB_MAX_CONNECTIONS: the wanted number, unless the open-files limit leaves room for fewer
 * once the reserve and the HTTP port's own budget are set aside. Each kind of client has its own share, so
 * neither can starve the other, and neither can starve the database pool.
 */
export function defaultMaxConnections(wanted: number, limit: number | undefined, httpConnections: number): number {
  if (limit === undefined) return wanted;
  return Math.max(1, Math.min(wanted, limit - RESERVED_FILE_DESCRIPTORS - httpConnections));
}

export function readProcessLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
}

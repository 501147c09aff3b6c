import { readFileSync } from 'node:fs';

/**
 * Descriptors kept free of device sessions: listeners, the database pool, admin and API connections, log files.
 * Without them, a hub at the open-files limit can no longer answer its API or reopen a database connection.
 */
export const RESERVED_FILE_DESCRIPTORS = 512;

/** The process's soft open-files limit (RLIMIT_NOFILE) from /proc/self/limits; undefined where unknown. */
export function openFilesLimit(limitsText: string | undefined): number | undefined {
  const line = limitsText?.split('\n').find((text) => text.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  if (soft === undefined || soft === 'unlimited') return undefined;
  const value = Number(soft);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The default TELEHUB_MAX_CONNECTIONS: the wanted number, unless the open-files limit leaves room for fewer. */
export function defaultMaxConnections(wanted: number, limit: number | undefined): number {
  if (limit === undefined) return wanted;
  return Math.max(1, Math.min(wanted, limit - RESERVED_FILE_DESCRIPTORS));
}

export function readProcessLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
}

import { availableParallelism } from 'node:os';

/** TELEHUB_WORKERS above this is refused: a typo (a port number) must not fork thousands of processes. */
export const MAX_WORKERS = 64;

/** TELEHUB_WORKERS: a number as it is, `auto` one hub process per core the machine gives this process. */
export function workerCount(setting: number | 'auto', cores = availableParallelism()): number {
  return setting === 'auto' ? Math.max(1, Math.min(cores, MAX_WORKERS)) : setting;
}

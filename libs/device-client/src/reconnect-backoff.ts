import { backoffDelay } from '@telehub/contracts';

export interface ReconnectPolicy {
  /** The step of the first attempt after a connection was lost. */
  initialDelayMs: number;
  /** No wait is longer than this, however many attempts failed. */
  maxDelayMs: number;
}

/** A sensible policy for a real device: the first retry within a second, then backing off to half a minute. */
export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = { initialDelayMs: 1_000, maxDelayMs: 30_000 };

/**
 * The wait before reconnect attempt `attempt` (from 1): the shared equal-jitter backoff, so a fleet that lost the
 * hub at the same moment (a hub restart) comes back spread out instead of all at once.
 */
export function reconnectDelay(attempt: number, policy: ReconnectPolicy, random: () => number = Math.random): number {
  return backoffDelay(attempt, { initialMs: policy.initialDelayMs, maxMs: policy.maxDelayMs }, random);
}

export interface ReconnectPolicy {
  /** The step of the first attempt after a connection was lost. */
  initialDelayMs: number;
  /** No wait is longer than this, however many attempts failed. */
  maxDelayMs: number;
}

/** A sensible policy for a real device: the first retry within a second, then backing off to half a minute. */
export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = { initialDelayMs: 1_000, maxDelayMs: 30_000 };

/**
 * Exponential backoff with "equal jitter": the step doubles per attempt up to `maxDelayMs`, and the wait is a
 * random point in the step's upper half. A fleet that lost the hub at the same moment (a hub restart) thereby
 * comes back spread out instead of all at once. `attempt` counts from 1.
 */
export function reconnectDelay(attempt: number, policy: ReconnectPolicy, random: () => number = Math.random): number {
  // Capping the exponent keeps 2 ** n finite however long the hub stays away.
  const step = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return Math.round(step / 2 + (random() * step) / 2);
}

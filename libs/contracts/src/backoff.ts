export interface BackoffOptions {
  /** The step of the first retry. */
  initialMs: number;
  /** No delay is longer than this, however many attempts failed. */
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": the step doubles per attempt up to `maxMs`, and the delay is a random
 * point in its upper half. The jitter spreads the retriers of one outage apart (hubs that lost the database, a
 * fleet that lost its hub, the dashboards of a restarted hub); the fixed half keeps a retry from ever following a
 * failure back to back. `attempt` counts from 1 (anything lower counts as 1). The one backoff of the project: the
 * hub's ingest retries, the device client's and the simulator's reconnects, and the dashboard's admin channel.
 * (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015, compares it with full and decorrelated jitter.)
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  // Capping the exponent keeps 2 ** n finite for absurd attempt counts (days of outage at a short cap).
  const step = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return Math.round(step / 2 + (random() * step) / 2);
}

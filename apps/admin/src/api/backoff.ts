/** How long to wait before reconnect attempt n: exponential, capped, with jitter so many tabs spread out. */
export interface BackoffOptions {
  /** The first wait. */
  initialMs: number;
  /** No wait is longer than this. */
  maxMs: number;
  /** Each failed attempt multiplies the wait by this. */
  factor: number;
  /** The wait is drawn from [wait × (1 − jitter), wait]: 0 is none, 0.5 up to half shorter. */
  jitter: number;
}

export const RECONNECT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000, factor: 2, jitter: 0.3 };

/** `attempt` counts from 0 (the first retry). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attempt, 30));
  const wait = Math.min(options.maxMs, options.initialMs * options.factor ** exponent);
  return Math.round(wait * (1 - options.jitter * random()));
}

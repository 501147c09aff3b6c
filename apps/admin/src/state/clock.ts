import { Store } from './store.js';

/** Relative times ("12 s ago") re-render from this one timer instead of one timer each. */
export const CLOCK_TICK_MS = 1000;

export const now = new Store(Date.now());
setInterval(() => now.set(Date.now()), CLOCK_TICK_MS);

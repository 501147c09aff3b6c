import { config } from 'zod';

/**
 * Zod compiles fast parsers with `new Function` when it may, and probes whether it may at the first schema it
 * builds. The hub's Content-Security-Policy forbids eval (script-src 'self'), so the probe fails, and the browser
 * still reports it as a policy violation. Turning the compiler off skips the probe. This module must be
 * evaluated before any schema is built: main.tsx imports it first.
 */
config({ jitless: true });

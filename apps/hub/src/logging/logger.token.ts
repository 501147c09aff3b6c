/** Injection token for the hub's root pino logger. */
export const LOGGER = Symbol('LOGGER');

import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written while handling one HTTP request carries. */
export interface RequestContext {
  /** The request id of the access log line and the `X-Request-Id` answer header. */
  readonly reqId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * Runs `next` (the rest of the request's handling) in the request's context, so that the hub's one logger adds
 * its id to every line logged on the way, by any service, without a logger being passed down. The context follows
 * the asynchronous calls made from there, as AsyncLocalStorage does: work a request starts and something else
 * finishes (a shared batch it triggered) may log with that request's id.
 */
export function runInRequestContext(context: RequestContext, next: () => void): void {
  storage.run(context, next);
}

/**
 * pino's `mixin`: the fields of the current request's context, or none outside a request. A new object each call:
 * pino merges the line's own fields into the object it gets.
 */
export function requestContextFields(): Partial<RequestContext> {
  const context = storage.getStore();
  return context ? { reqId: context.reqId } : {};
}

import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written while handling one HTTP request carries. */
export interface RequestContext {
  /** The request id of the access log line and the `X-Request-Id` answer header. */
  readonly reqId: string;
}

/** The request's answer, which says when the request is over. */
export interface RequestEnd {
  once(event: 'close', listener: () => void): unknown;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Requests being handled in a context now; the storage is switched off when none is. */
let requestsInContext = 0;

/**
 * Runs `next` (the rest of the request's handling) in the request's context, so that the hub's one logger adds
 * its id to every line logged on the way, by any service, without a logger being passed down. The context follows
 * the asynchronous calls made from there, as AsyncLocalStorage does: work a request starts and something else
 * finishes (a shared batch it triggered) may log with that request's id.
 *
 * The storage is switched off again once no request is being handled. On Node.js before AsyncContextFrame
 * (Node 20 and 22 by default), an enabled AsyncLocalStorage installs a promise hook that runs for every promise
 * of the process, device traffic included: measured on the ingest benchmark, that was 10–15 % more hub CPU per
 * message, for as long as the process lives after its first API request. Lines logged after the request
 * has ended (its answer closed) carry no `reqId`.
 */
export function runInRequestContext(context: RequestContext, end: RequestEnd, next: () => void): void {
  requestsInContext += 1;
  end.once('close', () => {
    requestsInContext -= 1;
    if (requestsInContext === 0) storage.disable();
  });
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

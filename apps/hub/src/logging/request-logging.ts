import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { runInRequestContext } from './request-context.js';

const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One structured line per request, with a request id taken from `X-Request-Id` or made up, and
 * echoed back so a client can quote it. Query strings are dropped from the logged URL: they may carry tokens.
 * The rest of the request's handling runs in its request context, so what services log on the way carries the
 * same id as `reqId`.
 */
export function requestLogging(logger: Logger) {
  const logRequest = pinoHttp({
    logger,
    genReqId: (request, response) => {
      const incoming = request.headers['x-request-id'];
      const id = typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
      response.setHeader('X-Request-Id', id);
      return id;
    },
    autoLogging: { ignore: (request: IncomingMessage) => QUIET_PATHS.has(request.url?.split('?')[0] ?? '') },
    customLogLevel: (_request, response, error) =>
      error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
    serializers: {
      req: (request: { id: string; method: string; url: string; remoteAddress?: string }) => ({
        id: request.id,
        method: request.method,
        url: request.url.split('?')[0],
        remoteAddress: request.remoteAddress,
      }),
      res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
    },
  });
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void =>
    logRequest(request, response, () => runInRequestContext({ reqId: String(request.id) }, response, next));
}

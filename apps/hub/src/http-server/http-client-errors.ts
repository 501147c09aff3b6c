import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { answerRawSocket } from '../common/raw-http-answer.js';
import { answeredBeforeItsBody } from './unread-body.js';

export interface ClientErrorSettings {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/**
 * The HTTP server's 'clientError' listener: what Node answers by itself (400, 408, 413, 431 with an empty body),
 * as Problem Details naming the setting that applied. Node reports a request that did not arrive in time
 * (TELEHUB_HTTP_HEADERS_TIMEOUT_MS for the headers, TELEHUB_HTTP_REQUEST_TIMEOUT_MS for headers and body) as
 * ERR_HTTP_REQUEST_TIMEOUT, and a request it cannot parse with the llhttp error code.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, settings: ClientErrorSettings): void {
  // The request in progress on this socket, if its headers arrived; once it has begun answering, nothing more
  // can be said on this connection.
  const response = (socket as { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent || answeredBeforeItsBody(socket)) {
    socket.destroy();
    return;
  }
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      // RFC 9110 §15.5.9: 408, and the connection is closed.
      answerRawSocket(
        socket,
        408,
        response === undefined
          ? {
              code: 'request_timeout',
              detail: `the request headers did not arrive within ${settings.headersTimeoutMs} ms (TELEHUB_HTTP_HEADERS_TIMEOUT_MS)`,
            }
          : {
              code: 'request_timeout',
              detail: `the request body did not arrive within ${settings.requestTimeoutMs} ms of the request's start (TELEHUB_HTTP_REQUEST_TIMEOUT_MS)`,
            },
      );
      return;
    case 'HPE_HEADER_OVERFLOW':
      answerRawSocket(socket, 431, { code: 'headers_too_large', detail: 'the request headers are too large' });
      return;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      answerRawSocket(socket, 413, { code: 'payload_too_large', detail: 'the chunk extensions are too large' });
      return;
    default:
      answerRawSocket(socket, 400, { code: 'bad_request', detail: 'the request is not valid HTTP/1.1' });
  }
}

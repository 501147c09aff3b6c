import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The body is about to be read: a client that asked to wait (`Expect: 100-continue`) may send it now
 * (RFC 9110 §10.1.1). The hub answers such requests itself (HttpServerLimits), so a refusal before this point
 * (401, 413 on Content-Length) reaches the client before it sends a body.
 */
export function sendContinue(request: IncomingMessage, response: ServerResponse | undefined): void {
  const expect = request.headers.expect;
  if (response && !response.headersSent && typeof expect === 'string' && expect.toLowerCase() === '100-continue') {
    response.writeContinue();
  }
}

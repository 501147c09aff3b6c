import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A request answered before its body arrived (401 on the headers alone, 413 on its Content-Length, a route
 * that takes no body): Node then reads the rest of the body and throws it away, so the connection can carry
 * the next request. That reading may go on for a long time (a large or slow body nobody wants), so it is given
 * `lingerMs`, after which the connection is closed if the body is still not complete.
 *
 * Not closed at once: closing a socket with unread data makes the kernel answer with RST, and a client still
 * sending its body would then often lose the answer (EPIPE, ECONNRESET instead of 401). nginx's "lingering
 * close" does the same for the same reason.
 */
export function closeUnreadBodyAfter(request: IncomingMessage, response: ServerResponse, lingerMs: number): void {
  response.once('finish', () => {
    if (request.complete) return;
    const socket = request.socket;
    answered.add(socket);
    const timer = setTimeout(() => {
      if (!request.complete) socket.destroy();
    }, lingerMs).unref();
    // Undone when the body has arrived: a keep-alive connection carries many requests, and must not gather a
    // listener for each.
    const done = () => {
      clearTimeout(timer);
      answered.delete(socket);
      socket.off('close', done);
      request.off('end', done);
    };
    socket.once('close', done);
    request.once('end', done);
  });
}

/** Connections whose request was answered while its body still arrives. */
const answered = new WeakSet<object>();

/**
 * Whether the request in progress on `socket` was answered already and only its body is still being read: a
 * timeout then must not send a second answer (408) for the same request.
 */
export function answeredBeforeItsBody(socket: object): boolean {
  return answered.has(socket);
}

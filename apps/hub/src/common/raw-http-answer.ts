import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from '@telehub/contracts';

/**
 * Writes a whole HTTP response straight onto a socket that no ServerResponse owns (a refused WebSocket
 * handshake, a request the HTTP parser gave up on) and closes it. With `problem`, the body is RFC 9457 Problem
 * Details, like every other telehub HTTP error.
 */
export function answerRawSocket(
  socket: Duplex,
  status: number,
  problem?: Omit<ProblemDetails, 'type' | 'status' | 'title'> & { title?: string },
  headers: Record<string, string> = {},
): void {
  if (!socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  const reason = STATUS_CODES[status] ?? 'Error';
  const lines = [`HTTP/1.1 ${status} ${reason}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  let body = '';
  if (problem) {
    const { code, title = reason, ...rest } = problem;
    body = JSON.stringify({
      type: `https://telehub.dev/problems/${code.replaceAll('_', '-')}`,
      title,
      status,
      code,
      ...rest,
    } satisfies ProblemDetails);
    lines.push(`Content-Type: ${PROBLEM_CONTENT_TYPE}`);
  }
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  socket.on('error', ignoreSocketError);
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function ignoreSocketError(): void {}

import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { answeredBeforeItsBody, closeUnreadBodyAfter } from './unread-body.js';

/** Reads from `socket` until the next HTTP answer has arrived (a 200 with "ok"). */
function answer(socket: Socket): Promise<void> {
  let text = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!text.startsWith('HTTP/1.1 200') || !text.endsWith('ok')) return;
      socket.off('data', onData).off('close', onClose);
      resolve();
    };
    const onClose = () => reject(new Error(`connection closed after: ${text}`));
    socket.on('data', onData).once('close', onClose);
  });
}

describe('closeUnreadBodyAfter (a real HTTP server on loopback)', () => {
  let server: Server;
  const accepted: Socket[] = [];

  afterEach(async () => {
    for (const socket of accepted.splice(0)) socket.destroy();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('leaves nothing behind on a keep-alive connection once each early-answered body has arrived', async () => {
    // Every request is answered on its headers, before its body is read, as a refusal (401, 403) is.
    server = createServer((request, response) => {
      closeUnreadBodyAfter(request, response, 60_000);
      response.end('ok');
    });
    server.on('connection', (socket: Socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const client = connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => client.once('connect', resolve));
    const baseline = { close: -1 };
    const requests = 30;
    for (let index = 0; index < requests; index += 1) {
      const answered = answer(client);
      const body = '{"name":"x"}';
      client.write(
        `POST /r HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      await answered;
      // The body comes after the answer, and the connection carries the next request.
      client.write(body);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (index === 0) baseline.close = accepted[0]!.listenerCount('close');
    }
    const socket = accepted[0]!;
    expect(socket.destroyed).toBe(false);
    expect(answeredBeforeItsBody(socket)).toBe(false);
    // One request's worth of listeners at most, however many requests the connection carried.
    expect(socket.listenerCount('close')).toBeLessThanOrEqual(baseline.close);
    client.destroy();
  });
});

import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpConnectionBudget } from './http-connection-budget.js';

interface Client {
  socket: Socket;
  closed: boolean;
}

describe('HttpConnectionBudget (a real HTTP server on loopback)', () => {
  let server: Server;
  let budget: HttpConnectionBudget;
  const clients: Client[] = [];
  const held: ServerResponse[] = [];
  const dropped: string[] = [];
  /** The server's side of each connection, in order. */
  const accepted: Socket[] = [];

  async function start(max: number, graceMs: number): Promise<void> {
    // Requests to /hold are left unanswered: their connections are busy.
    server = createServer((request, response) => {
      if (request.url === '/hold') held.push(response);
      else response.end('ok');
    });
    budget = new HttpConnectionBudget(max, graceMs, {
      size: () => undefined,
      dropped: (reason) => dropped.push(reason),
    });
    budget.attach(server);
    server.on('connection', (socket: Socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }

  async function client(request?: string): Promise<Client> {
    const { port } = server.address() as { port: number };
    const socket = connect({ host: '127.0.0.1', port });
    const entry = { socket, closed: false };
    socket.on('error', () => undefined);
    // Read (and drop) answers, so that the client sees the server closing even after an answer.
    socket.resume();
    socket.once('close', () => {
      entry.closed = true;
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    if (request) socket.write(request);
    clients.push(entry);
    // Let the server see the connection (and the request) before the next one comes.
    await sleep(20);
    return entry;
  }

  afterEach(async () => {
    for (const response of held.splice(0)) response.end();
    for (const entry of clients.splice(0)) entry.socket.destroy();
    dropped.splice(0);
    accepted.splice(0);
    await new Promise((resolve) => server.close(resolve));
  });

  it('at the cap, closes the longest idle connection for a new one', async () => {
    await start(3, 0);
    const [first, second, third] = [await client(), await client(), await client()];
    const fourth = await client();
    await sleep(50);
    expect(first!.closed).toBe(true);
    expect([second!.closed, third!.closed, fourth.closed]).toEqual([false, false, false]);
    expect(budget.size).toBe(3);
    expect(dropped).toEqual(['evicted']);
  });

  it('leaves connections idle for less than the grace alone and refuses the newcomer instead', async () => {
    await start(3, 60_000);
    const first = [await client(), await client(), await client()];
    const fourth = await client();
    await sleep(50);
    expect(fourth.closed).toBe(true);
    expect(first.map((entry) => entry.closed)).toEqual([false, false, false]);
    expect(dropped).toEqual(['full']);
  });

  it('never closes a connection with a request in progress; a keep-alive one between requests is idle again', async () => {
    await start(2, 0);
    const busy = await client('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    const keepAlive = await client('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const third = await client();
    await sleep(50);
    expect(busy.closed).toBe(false);
    expect(keepAlive.closed).toBe(true);
    expect(third.closed).toBe(false);
    // Only busy connections left besides the newest: the next newcomer evicts the newest idle one, never the busy.
    const fourth = await client();
    await sleep(50);
    expect([busy.closed, third.closed, fourth.closed]).toEqual([false, true, false]);
  });

  it('stops counting a connection released to the device sessions', async () => {
    await start(1, 60_000);
    const device = await client();
    // What the upgrade router does once a device WebSocket's handshake is its own.
    budget.release(accepted[0]!);
    expect(budget.size).toBe(0);
    const next = await client();
    await sleep(50);
    expect([device.closed, next.closed]).toEqual([false, false]);
    expect(budget.size).toBe(1);
    expect(dropped).toEqual([]);
  });
});

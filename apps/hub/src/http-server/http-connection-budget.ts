import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface HttpConnectionBudgetReport {
  /** The number of counted connections changed. */
  size(count: number): void;
  /** A connection was closed for the budget: an idle one for a newcomer (`evicted`), or the newcomer (`full`). */
  dropped(reason: 'evicted' | 'full'): void;
}

/**
 * TELEHUB_HTTP_MAX_CONNECTIONS: the HTTP port's own share of the open-files limit, for everything on it that is
 * not a device session (API requests, the dashboard, admin WebSockets, handshakes in progress). Device
 * WebSockets and MQTT over WebSocket arrive on this port too, but once their handshake is theirs they count
 * against TELEHUB_MAX_CONNECTIONS instead (`release`), so devices cannot crowd out the API nor the API devices.
 *
 * At the cap, a new connection closes the connection that has been idle longest, one with no request in
 * progress: a client that never finished its headers (slowloris) or a keep-alive connection between requests
 * (nginx likewise reuses idle and keep-alive connections when it runs out). A connection idle for less than
 * `graceMs` is left alone, so that in a rush of new clients (every device WebSocket reconnecting after a restart)
 * those that just connected can send their request instead of closing one another. Otherwise (every connection
 * busy with a request, a long poll, a CSV export, an admin WebSocket, or only just idle) the newcomer is refused,
 * by closing it: with TLS there is nothing it could read yet. Slow clients are ended by the header and request
 * timeouts.
 */
export class HttpConnectionBudget {
  /** Counted connections with no request in progress, and since when; longest idle first (insertion order). */
  private readonly idle = new Map<Socket, number>();
  /** Counted connections with requests in progress, and how many (pipelined requests queue on one socket). */
  private readonly busy = new Map<Socket, number>();

  constructor(
    private readonly max: number,
    private readonly graceMs: number,
    private readonly report: HttpConnectionBudgetReport,
  ) {}

  get size(): number {
    return this.idle.size + this.busy.size;
  }

  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('request', (request: IncomingMessage, response: ServerResponse) => this.started(request, response));
  }

  /** An upgraded connection stays an HTTP client (the admin channel): busy until it closes. */
  upgraded(socket: Duplex): void {
    const raw = rawSocket(socket);
    if (!this.idle.delete(raw) && !this.busy.has(raw)) return;
    this.busy.set(raw, 1);
  }

  /** An upgraded connection became a device session: from now on TELEHUB_MAX_CONNECTIONS counts it. */
  release(socket: Duplex): void {
    const raw = rawSocket(socket);
    if (this.idle.delete(raw) || this.busy.delete(raw)) this.report.size(this.size);
  }

  private admit(socket: Socket, now = performance.now()): void {
    if (this.size >= this.max) {
      const [longestIdle, since] = this.idle.entries().next().value ?? [];
      if (longestIdle === undefined || now - (since as number) < this.graceMs) {
        this.report.dropped('full');
        socket.destroy();
        return;
      }
      this.idle.delete(longestIdle);
      this.report.dropped('evicted');
      longestIdle.destroy();
    }
    this.idle.set(socket, now);
    this.report.size(this.size);
    socket.once('close', () => {
      if (this.idle.delete(socket) || this.busy.delete(socket)) this.report.size(this.size);
    });
  }

  private started(request: IncomingMessage, response: ServerResponse): void {
    const raw = rawSocket(request.socket);
    const inProgress = this.busy.get(raw);
    if (inProgress === undefined && !this.idle.delete(raw)) return;
    this.busy.set(raw, (inProgress ?? 0) + 1);
    // 'close' comes once per response, whether it was sent in full or its connection went first.
    response.once('close', () => this.ended(raw));
  }

  private ended(raw: Socket): void {
    const inProgress = this.busy.get(raw);
    if (inProgress === undefined) return;
    if (inProgress > 1) {
      this.busy.set(raw, inProgress - 1);
      return;
    }
    this.busy.delete(raw);
    // Idle again, now the newest idle one: a keep-alive connection waiting for its next request.
    if (!raw.destroyed) this.idle.set(raw, performance.now());
  }
}

/**
 * The TCP socket under a request's socket: with TLS, requests arrive on a TLSSocket that wraps the socket the
 * server's 'connection' event gave (Node keeps it as `_parent`).
 */
function rawSocket(socket: Duplex): Socket {
  return (socket as { _parent?: Socket })._parent ?? (socket as Socket);
}

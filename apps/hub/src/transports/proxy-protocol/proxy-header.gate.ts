import type { Server, Socket } from 'node:net';
import { type ProxiedSource, parseProxyHeader } from './proxy-header.js';

export interface ProxyHeaderGateOptions {
  /** TELEHUB_PROXY_HEADER_TIMEOUT_MS: a connection whose header has not arrived in this time is closed. */
  timeoutMs: number;
  /** A connection closed for a missing, malformed or late header. */
  onRefused?: (reason: string, socket: Socket) => void;
}

/**
 * Makes every connection `server` accepts begin with a PROXY protocol header (TELEHUB_PROXY_PROTOCOL): the header
 * is read and taken off, the socket's `remoteAddress` and `remotePort` become the client's (so auth throttling,
 * logs and session details see the device, not the load balancer), and only then do the server's own
 * `connection` listeners (HTTP parser, TLS handshake, MQTT session, connection budget) get the socket, with the
 * bytes that followed the header. Call it once every `connection` listener is attached and before `listen`.
 */
export function requireProxyHeader(server: Server, options: ProxyHeaderGateOptions): void {
  const listeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    readProxyHeader(socket, options, (source) => {
      if (source) carryClientAddress(socket, source);
      for (const listener of listeners) listener.call(server, socket);
    });
  });
  // A TLS server wraps the connection in a TLSSocket, which asks the operating system for its peer again.
  server.prependListener('secureConnection', (tlsSocket: Socket) => {
    const raw = (tlsSocket as { _parent?: Socket })._parent;
    const source = raw && proxiedSources.get(raw);
    if (source) carryClientAddress(tlsSocket, source);
  });
}

const proxiedSources = new WeakMap<Socket, ProxiedSource>();

function carryClientAddress(socket: Socket, source: ProxiedSource): void {
  proxiedSources.set(socket, source);
  Object.defineProperty(socket, 'remoteAddress', { value: source.address, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: source.port, configurable: true });
  Object.defineProperty(socket, 'remoteFamily', {
    value: source.address.includes(':') ? 'IPv6' : 'IPv4',
    configurable: true,
  });
}

/**
 * Reads the header in paused mode (`readable` and `read()`), never switching the socket to flowing: a TLS server
 * reads a net.Socket's handle directly, and a socket left flowing (or paused by hand) stalls its handshake. What
 * follows the header is given back with `unshift`, where the next owner reads it first (TLS replays buffered
 * bytes into the handshake; the HTTP parser and MQTT sessions read the stream).
 */
function readProxyHeader(
  socket: Socket,
  options: ProxyHeaderGateOptions,
  accepted: (source: ProxiedSource | undefined) => void,
): void {
  let received: Buffer = Buffer.alloc(0);
  const refuse = (reason: string) => {
    stop();
    options.onRefused?.(reason, socket);
    socket.destroy();
  };
  const timer = setTimeout(() => refuse('no PROXY protocol header in time'), options.timeoutMs);
  const onReadable = () => {
    for (let chunk: Buffer | null = socket.read(); chunk !== null; chunk = socket.read()) {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const result = parseProxyHeader(received);
      if (result.kind === 'incomplete') continue;
      if (result.kind === 'invalid') {
        refuse(result.reason);
        return;
      }
      stop();
      if (received.length > result.length) socket.unshift(received.subarray(result.length));
      accepted(result.source);
      return;
    }
  };
  const onGone = () => stop();
  const stop = () => {
    clearTimeout(timer);
    socket.off('readable', onReadable);
    socket.off('close', onGone);
  };
  socket.on('readable', onReadable);
  socket.on('close', onGone);
  // A reset before the header is no error of the hub's; without a listener it would be thrown.
  socket.on('error', () => undefined);
}

import { connect, type Socket } from 'node:net';

/** The parsed options postgres.js hands to its `socket` option (documented in its README, missing from its types). */
export interface DriverSocketOptions {
  host: string[];
  port: number[];
  /** A Unix socket path (a host starting with `/`), or false. */
  path: string | false;
  connect_timeout: number;
}

/**
 * A `socket` option for postgres.js that connects with TCP_NODELAY. postgres.js connects with `new net.Socket()`
 * and never calls setNoDelay, so Nagle's algorithm holds a small write while an earlier one is unacknowledged.
 * A COPY is two writes (its data, then the 5-byte CopyDone) and the server answers nothing in between, so the
 * CopyDone waited for the server's delayed ACK: 40 ms per batch on Linux, measured in the ingest bench (the
 * hub's COPY batches committed in 94 ms instead of about 10). With this option postgres.js expects a connected
 * socket, so this connects itself, to each host of the URL in turn as postgres.js does (multi-host URLs), or to
 * the Unix socket (where Nagle does not apply). TLS is still negotiated by postgres.js on top of it.
 */
export function noDelaySocketFactory(): (options: DriverSocketOptions) => Promise<Socket> {
  let hostIndex = 0;
  return (options) =>
    new Promise((resolve, reject) => {
      const index = hostIndex;
      hostIndex = (hostIndex + 1) % Math.max(1, options.port.length);
      const host = options.host[index] ?? '127.0.0.1';
      const port = options.port[index] ?? 5432;
      const socket = options.path ? connect({ path: options.path }) : connect({ host, port, noDelay: true });
      const timer =
        options.connect_timeout > 0
          ? setTimeout(
              () => socket.destroy(new Error(`connect timeout (${options.connect_timeout} s) to ${host}:${port}`)),
              options.connect_timeout * 1000,
            )
          : undefined;
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        // postgres.js names the server in its connection errors from these, as it does for its own sockets.
        resolve(Object.assign(socket, { host, port }));
      });
    });
}

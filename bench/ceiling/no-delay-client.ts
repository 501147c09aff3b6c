import { connect, type Socket } from 'node:net';
import type { DatabaseClient } from '@telehub/db';
import postgres from 'postgres';

/** The parsed options postgres.js hands to its `socket` option (documented in its README, missing from its types). */
interface SocketOptions {
  host: string[];
  port: number[];
  connect_timeout: number;
}

/**
 * A one-connection postgres.js client like the hub's, but with TCP_NODELAY on its socket. postgres.js itself
 * connects with `new net.Socket()` and never calls setNoDelay, so Nagle's algorithm is on in the hub: this
 * client is the other side of the bench's comparison. With a `socket` option postgres.js expects a
 * connected socket, so this connects to the URL's first host itself.
 */
export function createNoDelayClient(url: string, applicationName: string): DatabaseClient {
  const sql = postgres(url, {
    max: 1,
    onnotice: () => undefined,
    connection: { application_name: applicationName },
    // Spread: postgres.js documents `socket` but its type definitions lack it.
    ...{ socket: connectNoDelay },
  });
  // TelemetryRepository, the only user of this client, reads nothing but `sql`.
  return { sql, db: undefined as never, close: (timeoutSeconds = 5) => sql.end({ timeout: timeoutSeconds }) };
}

function connectNoDelay(options: SocketOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const host = options.host[0] ?? '127.0.0.1';
    const port = options.port[0] ?? 5432;
    const socket = connect({ host, port, noDelay: true });
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), options.connect_timeout * 1000);
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

import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** The network "drops": nothing more is forwarded, and new connections hang, as with a pulled cable. */
  drop(): void;
  /** The network is back: the dead connections end, new ones are forwarded again. */
  restore(): void;
  close(): Promise<void>;
}

/**
 * A TCP forwarder between the browser and the hub, so a test can take the network away without the hub
 * noticing anything: no FIN, no RST, just silence, which is what a dropped Wi-Fi or a sleeping laptop gives.
 */
export async function startTcpProxy(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
  let dropped = false;
  const pairs = new Set<{ client: Socket; upstream?: Socket; cut: boolean }>();
  const server = createServer((client) => {
    const pair: { client: Socket; upstream?: Socket; cut: boolean } = { client, cut: dropped };
    pairs.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => {
      pairs.delete(pair);
      if (!pair.cut) pair.upstream?.destroy();
    });
    if (dropped) {
      client.pause(); // accepted, never answered
      return;
    }
    const upstream = createConnection(targetPort, host);
    pair.upstream = upstream;
    upstream.on('error', () => undefined);
    // Once cut, the hub giving up on the connection must not reach the browser either: only silence does.
    upstream.on('close', () => {
      if (!pair.cut) client.destroy();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://${host}:${port}`,
    drop() {
      dropped = true;
      for (const pair of pairs) {
        pair.cut = true;
        for (const socket of [pair.client, pair.upstream]) {
          socket?.unpipe();
          socket?.pause();
        }
      }
    },
    restore() {
      dropped = false;
      for (const pair of [...pairs])
        if (pair.cut) {
          pair.client.destroy();
          pair.upstream?.destroy();
          pairs.delete(pair);
        }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) {
          pair.client.destroy();
          pair.upstream?.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

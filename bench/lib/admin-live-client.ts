import type { AdminPointsMessage, AdminServerMessage } from '@telehub/contracts';
import { ADMIN_WS_PATH } from '@telehub/contracts';
import { WebSocket } from 'ws';

/** How long the handshake, auth and the subscription's snapshot may take. */
const OPEN_TIMEOUT_MS = 10_000;

export interface AdminLiveOptions {
  baseUrl: string;
  adminToken: string;
  devices: string[];
  metrics: string[];
  /** Live messages per second; undefined: the hub's default (TELEHUB_ADMIN_WS_RATE). */
  maxRate: number | undefined;
  /** Called for every live `points` message, with performance.now() of its arrival. */
  onPoints(message: AdminPointsMessage, receivedAt: number): void;
}

/**
 * An admin tool on the hub's admin WebSocket (`ws` client, docs/admin-protocol.md): authenticates with
 * `{"type":"auth"}`, subscribes live only (no history), and hands every `points` message over as it arrives.
 */
export class AdminLiveClient {
  /** `lagged` messages: points the hub left out because this client fell behind. */
  dropped = 0;
  readonly problems: string[] = [];

  private constructor(private readonly socket: WebSocket) {}

  static async open(options: AdminLiveOptions): Promise<AdminLiveClient> {
    const socket = new WebSocket(`${options.baseUrl.replace(/^http/, 'ws')}${ADMIN_WS_PATH}`);
    const client = new AdminLiveClient(socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('no snapshot within the timeout')), OPEN_TIMEOUT_MS);
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.terminate();
        reject(new Error(`admin WebSocket: ${error.message}`));
      };
      socket.once('error', fail);
      socket.once('close', (code, reason) => fail(new Error(`closed ${code} ${reason.toString()}`)));
      socket.once('open', () => socket.send(JSON.stringify({ type: 'auth', token: options.adminToken })));
      socket.on('message', (data) => {
        const receivedAt = performance.now();
        const message = JSON.parse(data.toString()) as AdminServerMessage;
        switch (message.type) {
          case 'auth_ok':
            socket.send(
              JSON.stringify({
                type: 'subscribe',
                id: 'bench',
                devices: options.devices,
                metrics: options.metrics,
                events: false,
                ...(options.maxRate === undefined ? {} : { maxRate: options.maxRate }),
              }),
            );
            break;
          case 'snapshot':
            clearTimeout(timer);
            socket.removeAllListeners('error');
            socket.removeAllListeners('close');
            socket.on('error', (error) => client.problems.push(error.message));
            resolve();
            break;
          case 'points':
            options.onPoints(message, receivedAt);
            break;
          case 'lagged':
            client.dropped += message.dropped;
            break;
          case 'error':
            client.problems.push(`${message.code}: ${message.message}`);
            fail(new Error(`${message.code}: ${message.message}`));
            break;
          default:
            break;
        }
      });
    });
    return client;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.close(1000);
    });
  }
}

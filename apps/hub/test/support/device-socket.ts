import { WebSocket } from 'ws';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON frames
export type Frame = any;

/** A device on the JSON WebSocket protocol: frames it receives queue up until the test reads them. */
export class DeviceSocket {
  private readonly frames: Frame[] = [];
  private readonly waiters: ((frame: Frame) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      const waiter = this.waiters.shift();
      if (waiter) waiter(frame);
      else this.frames.push(frame);
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    // A reset after the hub closed the session (1009) is expected; the close code is what the tests check.
    ws.on('error', () => undefined);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  next(timeoutMs = 5_000): Promise<Frame> {
    const queued = this.frames.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame from the hub')), timeoutMs);
      this.waiters.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }

  async request(frame: unknown): Promise<Frame> {
    this.send(frame);
    return this.next();
  }

  close(): void {
    this.ws.close();
  }
}

/** A device connected over JSON WebSocket with its token in the handshake's Authorization header. */
export function connectDeviceSocket(baseUrl: string, token: string): Promise<DeviceSocket> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/devices/ws`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const socket = new DeviceSocket(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(socket));
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
  });
}

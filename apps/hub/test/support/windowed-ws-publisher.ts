import { WebSocket } from 'ws';
import { WindowedPublisher, type WindowedPublisherOptions } from './windowed-publisher.js';

/** A WindowedPublisher on the device WebSocket (JSON frames): a `seq` per window slot, answered by `ack` or `error`. */
export class WindowedWsPublisher extends WindowedPublisher {
  readonly transport = 'ws' as const;
  private readonly websocket: WebSocket;

  private constructor(options: WindowedPublisherOptions) {
    super(options);
    this.websocket = new WebSocket(`ws://127.0.0.1:${options.port}/v1/devices/ws`, {
      headers: { Authorization: `Bearer ${options.token}` },
      createConnection: this.tcpConnection,
    });
    this.websocket.on('error', () => undefined);
    this.websocket.on('close', (code) => {
      this.farewell = code;
    });
    this.websocket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; seq?: number; code?: string };
      if (frame.seq === undefined) return;
      if (frame.type === 'ack') this.settle(frame.seq);
      else if (frame.type === 'error') this.settle(frame.seq, frame.code ?? 'error');
    });
  }

  /** Connects (`port` is the hub's HTTP port) and waits for the upgrade. */
  static async connect(options: WindowedPublisherOptions): Promise<WindowedWsPublisher> {
    const publisher = new WindowedWsPublisher(options);
    await new Promise<void>((resolve, reject) => {
      publisher.websocket.once('open', () => resolve());
      publisher.websocket.once('error', reject);
    });
    return publisher;
  }

  protected get writable(): boolean {
    return this.websocket.readyState === WebSocket.OPEN;
  }

  protected send(slot: number, value: number): void {
    this.websocket.send(`{"type": "telemetry", "seq": ${slot}, "data": {"v": ${value}}}${this.padding}`);
  }
}

import type { Duplex } from 'node:stream';
import { parser as createParser, generate, type Packet } from 'mqtt-packet';
import { createWebSocketStream, WebSocket } from 'ws';
import { type LoadTransport, WindowedPublisher, type WindowedPublisherOptions } from './windowed-publisher.js';

const PINGREQ = Buffer.from([0xc0, 0x00]);
/** How long a device on TCP goes on sending after the hub's FIN. */
const CROSSING_MS = 50;

/**
 * A WindowedPublisher speaking MQTT 5 through mqtt-packet (no client library), on plain TCP or over a WebSocket
 * at /mqtt: QoS 1 publishes, a packet id per window slot.
 */
export class WindowedMqttPublisher extends WindowedPublisher {
  private stream!: Duplex;

  private constructor(
    readonly transport: Extract<LoadTransport, 'mqtt' | 'mqtt-ws'>,
    options: WindowedPublisherOptions,
  ) {
    super(options, transport === 'mqtt');
    if (transport === 'mqtt') {
      this.stream = this.socket;
      // Like a device whose packets are still on their way when the hub closes, it sends for a moment after the
      // hub's FIN, then closes its side. A hub that closed its socket without reading them has reset the
      // connection, and these writes fail (EPIPE, ECONNRESET) deterministically.
      this.socket.once('end', () => {
        this.socket.write(PINGREQ);
        setTimeout(() => this.socket.end(PINGREQ), CROSSING_MS);
      });
    } else {
      const websocket = new WebSocket(`ws://127.0.0.1:${options.port}/mqtt`, 'mqtt', {
        createConnection: this.tcpConnection,
      });
      this.stream = createWebSocketStream(websocket);
      // Writing after the hub closed fails on the stream; only the TCP socket's errors tell of a reset.
      this.stream.on('error', () => undefined);
    }
  }

  /** Connects and waits for the accepting CONNACK. */
  static async connect(
    transport: 'mqtt' | 'mqtt-ws',
    options: WindowedPublisherOptions,
  ): Promise<WindowedMqttPublisher> {
    const publisher = new WindowedMqttPublisher(transport, options);
    await publisher.handshake();
    return publisher;
  }

  protected get writable(): boolean {
    return this.stream.writable;
  }

  protected send(slot: number, value: number): void {
    this.stream.write(
      generate(
        {
          cmd: 'publish',
          topic: 'devices/me/telemetry',
          payload: Buffer.from(`{"v": ${value}}${this.padding}`),
          qos: 1,
          messageId: slot,
          dup: false,
          retain: false,
        },
        { protocolVersion: 5 },
      ),
    );
  }

  private handshake(): Promise<void> {
    const parser = createParser({ protocolVersion: 5 });
    return new Promise((resolve, reject) => {
      parser.on('packet', (packet: Packet) => {
        if (packet.cmd === 'connack') {
          if (packet.reasonCode === 0) resolve();
          else reject(new Error(`CONNACK ${packet.reasonCode}`));
        } else if (packet.cmd === 'puback') {
          const code = packet.reasonCode ?? 0;
          this.settle(packet.messageId!, code < 0x80 ? undefined : code);
        } else if (packet.cmd === 'disconnect') {
          this.farewell = packet.reasonCode ?? 0;
        }
      });
      parser.on('error', reject);
      this.stream.on('data', (chunk: Buffer) => parser.parse(chunk));
      void this.closed.then(() => reject(new Error('closed before CONNACK')));
      this.stream.write(
        generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 5,
          clientId: `load-${this.options.deviceId}`,
          clean: true,
          keepalive: 60,
          username: this.options.deviceId,
          password: Buffer.from(this.options.token),
        }),
      );
    });
  }
}

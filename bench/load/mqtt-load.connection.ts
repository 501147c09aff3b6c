import { connect, type Socket } from 'node:net';
import { parser as createParser, generate, type Packet } from 'mqtt-packet';
import { type LoadConnection, type LoadConnectionHooks, type LoadTarget, PublishWindow } from './load-connection.js';
import type { LoadDevice } from './load-protocol.js';

/** Packet types [MQTT-2.2.1], as the high nibble of the first byte. */
const PUBACK = 4;
const PINGRESP = 13;
const PINGREQ_BYTES = Buffer.from([0xc0, 0x00]);
const DISCONNECT_BYTES = Buffer.from([0xe0, 0x00]);

/** Pre-encoded PUBLISH packets, one per window slot, shared by every connection of a worker (they are never modified). */
export class MqttPublishPackets {
  readonly slots: Buffer[];

  constructor(topic: string, payload: string, window: number) {
    const body = Buffer.from(payload);
    this.slots = Array.from({ length: window }, (_, slot) =>
      generate({ cmd: 'publish', topic, payload: body, qos: 1, messageId: slot + 1, dup: false, retain: false }),
    );
  }
}

/**
 * A device speaking MQTT 3.1.1 over a raw TCP socket, for load generation. Packets are produced by
 * mqtt-packet ahead of time (CONNECT per device, PUBLISH per window slot); the hot path only writes prepared
 * buffers and reads 4-byte PUBACKs by hand. The rare other packets (CONNACK, DISCONNECT) go through
 * mqtt-packet's parser. Writes made in one tick leave in one segment: the socket is corked until the next tick.
 */
export class MqttLoadConnection implements LoadConnection {
  refill = false;
  lastWriteAt = 0;
  private socket: Socket | undefined;
  private readonly window: PublishWindow;
  private pending: Buffer | undefined;
  private corked = false;
  private established = false;
  private connackWaiter: { resolve(): void; reject(error: Error): void } | undefined;

  constructor(
    private readonly target: LoadTarget,
    private readonly device: LoadDevice,
    private readonly keepAliveSeconds: number,
    private readonly packets: MqttPublishPackets | undefined,
    private readonly hooks: LoadConnectionHooks,
  ) {
    this.window = new PublishWindow(packets?.slots.length ?? 0);
  }

  get outstanding(): number {
    return this.window.outstanding;
  }

  get hasFreeSlot(): boolean {
    return this.established && this.window.hasFree;
  }

  get isOpen(): boolean {
    return this.established && this.socket !== undefined && !this.socket.destroyed;
  }

  connect(): Promise<void> {
    const { host, port, localAddress, connectTimeoutMs } = this.target;
    return new Promise<void>((resolve, reject) => {
      const fail = (reason: string) => {
        clearTimeout(timer);
        this.connackWaiter = undefined;
        socket.destroy();
        reject(new Error(reason));
      };
      const timer = setTimeout(() => fail('timeout'), connectTimeoutMs);
      this.connackWaiter = {
        resolve: () => {
          clearTimeout(timer);
          this.connackWaiter = undefined;
          this.established = true;
          resolve();
        },
        reject: (error) => fail(error.message),
      };
      const socket = connect({ host, port, localAddress, noDelay: true });
      this.socket = socket;
      socket.on('data', this.onData);
      socket.on('error', (error: NodeJS.ErrnoException) =>
        this.connackWaiter?.reject(new Error(error.code ?? 'error')),
      );
      socket.on('close', () => {
        if (this.connackWaiter) this.connackWaiter.reject(new Error('closed_before_connack'));
        else if (this.established) {
          this.established = false;
          this.hooks.onClose();
        }
      });
      // Written at once: net.Socket queues it until the TCP connection is up.
      this.lastWriteAt = performance.now();
      socket.write(
        generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          clientId: `bench-${this.device.id}`,
          keepalive: this.keepAliveSeconds,
          // The hub takes the device id as user name and the token as password [docs/device-protocol.md].
          username: this.device.id,
          password: Buffer.from(this.device.token),
        }),
      );
    });
  }

  fillWindow(): void {
    while (this.publishOne()) {}
  }

  publishOne(): boolean {
    if (!this.established || !this.packets) return false;
    const slot = this.window.take(performance.now());
    if (slot < 0) return false;
    this.write(this.packets.slots[slot]!);
    return true;
  }

  ping(): void {
    if (this.isOpen) this.write(PINGREQ_BYTES);
  }

  close(): void {
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    this.refill = false;
    if (this.established) socket.end(DISCONNECT_BYTES);
    else socket.destroy();
  }

  private write(bytes: Buffer): void {
    const socket = this.socket!;
    this.lastWriteAt = performance.now();
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(this.uncork);
    }
    socket.write(bytes);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket?.uncork();
  };

  /** Splits the stream into packets by their fixed header: type byte, then a 1–4 byte remaining length [MQTT-2.2.3]. */
  private readonly onData = (chunk: Buffer): void => {
    const buffer = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let offset = 0;
    while (offset + 2 <= buffer.length) {
      let length = 0;
      let position = offset + 1;
      let multiplier = 1;
      let byte: number;
      do {
        if (position >= buffer.length) {
          this.pending = buffer.subarray(offset);
          return;
        }
        byte = buffer[position++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
      } while (byte & 0x80 && multiplier <= 128 ** 3);
      const end = position + length;
      if (end > buffer.length) break;
      const type = buffer[offset]! >> 4;
      if (type === PUBACK && length >= 2) this.onPuback((buffer[position]! << 8) | buffer[position + 1]!);
      else if (type === PINGRESP) this.hooks.onPingResponse();
      else this.onOtherPacket(decode(buffer.subarray(offset, end)));
      offset = end;
    }
    if (offset < buffer.length) this.pending = buffer.subarray(offset);
  };

  private onPuback(messageId: number): void {
    const latency = this.window.settle(messageId - 1, performance.now());
    if (Number.isNaN(latency)) return;
    this.hooks.onAck(latency, true);
    if (this.refill) this.publishOne();
  }

  private onOtherPacket(packet: Packet | undefined): void {
    if (packet?.cmd === 'connack') {
      if (packet.returnCode === 0) this.connackWaiter?.resolve();
      else this.connackWaiter?.reject(new Error(`connack_${packet.returnCode}`));
    } else if (packet?.cmd === 'disconnect') {
      this.socket?.destroy();
    }
  }
}

/** One parser per process for the rare packets: it is only ever given whole packets, so it holds no state between them. */
const rareParser = createParser({ protocolVersion: 4 });
let decoded: Packet | undefined;
rareParser.on('packet', (packet: Packet) => {
  decoded = packet;
});
// A malformed packet decodes to nothing; the connection then simply never sees its CONNACK and times out.
rareParser.on('error', () => {
  decoded = undefined;
});

function decode(bytes: Buffer): Packet | undefined {
  decoded = undefined;
  rareParser.parse(bytes);
  return decoded;
}

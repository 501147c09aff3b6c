import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import type { IngestOutcome } from '../../ingest/ingest.service.js';
import type { DevicePort } from '../device-port.js';
import { DeviceWsSession } from './device-ws.session.js';

/** The parts of a `ws` WebSocket the session uses, recording what the session does with them. */
class FakeWebSocket extends EventEmitter {
  readyState = 1;
  isPaused = false;
  readonly sent: unknown[] = [];
  readonly pings: number[] = [];
  closedWith: { code: number; reason: string } | undefined;

  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
  ping(): void {
    this.pings.push(Date.now());
  }
  pause(): void {
    this.isPaused = true;
  }
  resume(): void {
    this.isPaused = false;
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
    this.readyState = 2;
  }
  terminate(): void {
    this.readyState = 3;
    this.emit('close', 1006, Buffer.alloc(0));
  }
  frame(value: unknown): void {
    this.emit('message', Buffer.from(JSON.stringify(value)), false);
  }
}

function deferred() {
  let resolve!: (outcome: IngestOutcome) => void;
  const promise = new Promise<IngestOutcome>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

function makeSession(port: Partial<DevicePort> = {}) {
  const websocket = new FakeWebSocket();
  const services = {
    port: { admit: () => undefined, recordRejected: vi.fn(), ...port } as unknown as DevicePort,
    logger: pino({ level: 'silent' }),
    maxMessageBytes: 1024,
    maxJsonDepth: 32,
  };
  const session = new DeviceWsSession(websocket as unknown as WebSocket, 'device-1', services);
  return { websocket, session, services };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('DeviceWsSession', () => {
  it('answers in frame order even when later frames commit first', async () => {
    const commits = [deferred(), deferred(), deferred()];
    let call = 0;
    const { websocket, session } = makeSession({ ingestTelemetry: () => commits[call++]!.promise });
    websocket.frame({ type: 'telemetry', seq: 1, data: { a: 1 } });
    websocket.frame({ type: 'telemetry', seq: 2, data: { a: 2 } });
    websocket.frame({ type: 'telemetry', seq: 3, data: { a: 3 } });
    commits[2]!.resolve({ ok: true, rows: 1 });
    commits[1]!.resolve({ ok: false, code: 'invalid_payload', message: 'no' });
    await flush();
    expect(websocket.sent).toEqual([]);
    let drained = false;
    void session.drain().then(() => {
      drained = true;
    });
    await flush();
    expect(drained).toBe(false);
    commits[0]!.resolve({ ok: true, rows: 1 });
    await flush();
    expect(websocket.sent).toEqual([
      { type: 'ack', seq: 1 },
      { type: 'error', seq: 2, code: 'invalid_payload', message: 'no' },
      { type: 'ack', seq: 3 },
    ]);
    expect(drained).toBe(true);
  });

  it('stores nothing more once it was asked to close, and closes with the reason’s status', async () => {
    const ingestTelemetry = vi.fn(async () => ({ ok: true as const, rows: 1 }));
    const { websocket, session } = makeSession({ ingestTelemetry });
    websocket.pause();
    session.close('taken_over');
    expect(websocket.closedWith).toEqual({ code: 4000, reason: 'session taken over' });
    expect(websocket.isPaused).toBe(false);
    websocket.frame({ type: 'telemetry', seq: 1, data: { a: 1 } });
    await flush();
    expect(ingestTelemetry).not.toHaveBeenCalled();
    expect(websocket.sent).toEqual([]);
  });

  it('pings, and terminates a device that did not answer the previous ping', async () => {
    const { websocket, session } = makeSession();
    session.heartbeat();
    expect(websocket.pings).toHaveLength(1);
    websocket.emit('pong');
    session.heartbeat();
    expect(websocket.pings).toHaveLength(2);
    session.heartbeat();
    expect(websocket.readyState).toBe(3);
    expect(await session.ended).toBe('keepalive_timeout');
  });

  it('leaves a paused session alone: it cannot read pongs', () => {
    const { websocket, session } = makeSession();
    session.heartbeat();
    session.pause();
    session.heartbeat();
    session.heartbeat();
    expect(websocket.readyState).toBe(1);
    expect(websocket.pings).toHaveLength(1);
  });

  it('records an oversize frame reported by ws and ends with packet_too_large', async () => {
    const { websocket, session, services } = makeSession();
    websocket.emit(
      'error',
      Object.assign(new RangeError('Max payload size exceeded'), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' }),
    );
    websocket.emit('close', 1009, Buffer.alloc(0));
    expect(await session.ended).toBe('packet_too_large');
    expect(services.port.recordRejected).toHaveBeenCalledWith(
      'device-1',
      'ws',
      'message_too_large',
      expect.stringContaining('1024 bytes'),
    );
  });

  it('tells a device-initiated close from a dropped connection', async () => {
    const closedByDevice = makeSession();
    closedByDevice.websocket.emit('close', 1000, Buffer.alloc(0));
    expect(await closedByDevice.session.ended).toBe('client_disconnect');
    const dropped = makeSession();
    dropped.websocket.emit('close', 1006, Buffer.alloc(0));
    expect(await dropped.session.ended).toBe('socket_closed');
  });
});

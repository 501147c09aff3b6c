import type { IncomingMessage } from 'node:http';
import { DEVICE_WS_CLOSE, type OutgoingDeviceFrame, type ParsedHubFrame, parseHubFrame } from '@telehub/contracts';
import { type RawData, WebSocket } from 'ws';
import { DeviceClientError } from './device-client.error.js';
import type { CommandOutcome, DeviceCommand } from './device-client.js';
import type { DeviceClientOptions } from './device-client.options.js';
import { DeviceClientBase } from './device-client-base.js';
import { deviceWebSocketUrl } from './device-endpoints.js';
import { parseJson } from './parse-json.js';
import { settlesWithin } from './settles-within.js';

interface Pending {
  resolve: () => void;
  reject: (error: DeviceClientError) => void;
}

/** Omit over each member of a union (a frame type), keeping the union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Bytes of a refused handshake's Problem Details body read to explain the refusal. */
const REFUSAL_BODY_MAX_BYTES = 4096;

/**
 * A device on the hub's JSON-over-WebSocket protocol, on `ws`. Every frame the client sends carries a `seq`,
 * so every frame gets exactly one answer (`ack` once committed, or `error`), matched here by seq.
 */
export class WsDeviceClient extends DeviceClientBase<undefined> {
  readonly transport = 'ws' as const;
  private readonly endpoint: string;
  private socket: WebSocket | undefined;
  private closed: Promise<void> = Promise.resolve();
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private drained: (() => void)[] = [];

  constructor(options: DeviceClientOptions) {
    super(options);
    this.endpoint = deviceWebSocketUrl(this.options.url);
  }

  protected open(): Promise<void> {
    const socket = new WebSocket(this.endpoint, {
      // The header, not ?token=: URLs end up in proxy logs.
      headers: { Authorization: `Bearer ${this.options.token}` },
      handshakeTimeout: this.options.connectTimeoutMs,
      // Off on the hub by default; small JSON frames gain little from it (docs/device-protocol.md, "Compression").
      perMessageDeflate: false,
    });
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    let opened = false;
    let lastError: Error | undefined;
    return new Promise<void>((resolve, reject) => {
      socket.once('unexpected-response', (request, response) => {
        void refusal(response).then((error) => {
          reject(error);
          request.destroy();
        });
      });
      socket.once('open', () => {
        opened = true;
        resolve();
      });
      socket.on('message', (data, isBinary) => this.onFrame(data, isBinary));
      socket.on('error', (error) => {
        lastError = error;
        if (!opened)
          reject(new DeviceClientError('ERR_CONNECT_FAILED', `WebSocket: ${error.message}`, { cause: error }));
      });
      socket.once('close', (code, reason) => {
        this.failPending('the connection closed before the hub answered the frame');
        if (!opened) {
          reject(new DeviceClientError('ERR_CONNECT_FAILED', `WebSocket closed during the handshake (${code})`));
          return;
        }
        if (this.socket === socket) this.connectionLost(closeError(code, reason.toString(), lastError));
      });
    });
  }

  protected isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  protected async shutdown(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    if (socket.readyState === WebSocket.CONNECTING) {
      socket.terminate();
      return;
    }
    const deadline = Date.now() + this.options.closeTimeoutMs;
    if (socket.readyState === WebSocket.OPEN) {
      // Answers to frames already sent first, then the closing handshake (RFC 6455 §7.1.2).
      await settlesWithin(this.whenDrained(), deadline - Date.now());
      socket.close(DEVICE_WS_CLOSE.normal.code);
    }
    if (!(await settlesWithin(this.closed, Math.max(0, deadline - Date.now())))) socket.terminate();
  }

  protected publish(kind: 'telemetry' | 'state', data: unknown): Promise<void> {
    return this.request({ type: kind, data });
  }

  protected subscribeCommands(): Promise<void> {
    return Promise.resolve();
  }

  protected acknowledgeCommand(command: DeviceCommand): Promise<void> {
    return this.request({ type: 'command_ack', id: command.id });
  }

  protected sendCommandResult(command: DeviceCommand, outcome: CommandOutcome): Promise<void> {
    return this.request({ type: 'command_result', id: command.id, ...outcome });
  }

  /** Sends a frame with the next seq; resolves on its `ack`, rejects on its `error` or when the socket closes. */
  private request(frame: DistributiveOmit<OutgoingDeviceFrame, 'seq'>): Promise<void> {
    const socket = this.socket;
    if (socket?.readyState !== WebSocket.OPEN) {
      return Promise.reject(new DeviceClientError('ERR_NOT_CONNECTED', `device ${this.deviceId} is not connected`));
    }
    this.seq += 1;
    const seq = this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      socket.send(JSON.stringify({ ...frame, seq } satisfies OutgoingDeviceFrame), (error) => {
        if (error) this.settle(seq, new DeviceClientError('ERR_CONNECTION_LOST', error.message, { cause: error }));
      });
    });
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    const parsed: ParsedHubFrame = isBinary ? { ok: false, message: 'a binary frame' } : parseHubFrame(rawText(data));
    if (!parsed.ok) {
      this.report(new DeviceClientError('ERR_PROTOCOL', `unreadable frame from the hub: ${parsed.message}`));
      return;
    }
    const { frame } = parsed;
    switch (frame.type) {
      case 'ack':
        this.settle(frame.seq);
        return;
      case 'error': {
        const hubCode = frame.code;
        const error = new DeviceClientError('ERR_REJECTED', `the hub refused the frame: ${hubCode}: ${frame.message}`, {
          hubCode,
        });
        if (frame.seq !== undefined && this.pending.has(frame.seq)) this.settle(frame.seq, error);
        else this.report(error);
        return;
      }
      case 'command': {
        const { type: _type, ...command } = frame;
        void this.commands.receive(command, undefined);
        return;
      }
    }
  }

  private settle(seq: number, error?: DeviceClientError): void {
    const pending = this.pending.get(seq);
    if (!pending) return;
    this.pending.delete(seq);
    if (error) pending.reject(error);
    else pending.resolve();
    if (this.pending.size === 0) for (const done of this.drained.splice(0)) done();
  }

  private whenDrained(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private failPending(message: string): void {
    for (const seq of [...this.pending.keys()]) this.settle(seq, new DeviceClientError('ERR_CONNECTION_LOST', message));
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** A refused handshake: HTTP status and the Problem Details `code` (docs/device-protocol.md, "Connecting"). */
async function refusal(response: IncomingMessage): Promise<DeviceClientError> {
  const status = response.statusCode ?? 0;
  let body = '';
  try {
    for await (const chunk of response) {
      body += (chunk as Buffer).toString('utf8');
      if (body.length >= REFUSAL_BODY_MAX_BYTES) break;
    }
  } catch {
    // the body only explains the status
  }
  const problem = parseJson(body);
  const value = problem.ok ? (problem.value as { code?: unknown; detail?: unknown } | null) : null;
  const hubCode = typeof value?.code === 'string' ? value.code : undefined;
  const explanation = typeof value?.detail === 'string' ? `: ${value.detail}` : hubCode ? `: ${hubCode}` : '';
  const code = status === 401 ? 'ERR_UNAUTHORIZED' : 'ERR_CONNECT_FAILED';
  return new DeviceClientError(code, `the hub refused the WebSocket handshake with HTTP ${status}${explanation}`, {
    status,
    hubCode,
  });
}

function closeError(code: number, reason: string, lastError: Error | undefined): DeviceClientError {
  const detail = { status: code, cause: lastError };
  const text = `WebSocket closed with ${code}${reason ? ` ${reason}` : ''}`;
  if (code === DEVICE_WS_CLOSE.taken_over.code) return new DeviceClientError('ERR_SESSION_TAKEN_OVER', text, detail);
  if (code === DEVICE_WS_CLOSE.not_authorized.code) return new DeviceClientError('ERR_UNAUTHORIZED', text, detail);
  return new DeviceClientError('ERR_CONNECTION_LOST', text, detail);
}

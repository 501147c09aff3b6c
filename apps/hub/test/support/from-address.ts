import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import mqtt, { type IClientOptions, MqttClient } from 'mqtt';
import { WebSocket } from 'ws';

/**
 * Clients (MQTT.js, node:http, ws) that connect from a chosen loopback address (127.0.0.2, …: all of 127/8 is
 * this host), so a test can be several sources at once: what limits per source address need.
 */

/** An MQTT.js client over TCP (`transport: 'tcp'`) or WebSocket from `localAddress`; it does not reconnect. */
export function mqttFrom(
  localAddress: string,
  target: { host: string; port: number; wsUrl?: string },
  options: IClientOptions & { transport?: 'tcp' | 'ws' } = {},
): MqttClient {
  const { transport = 'tcp', ...clientOptions } = options;
  const common: IClientOptions = { reconnectPeriod: 0, connectTimeout: 5_000, ...clientOptions };
  if (transport === 'ws') {
    return mqtt.connect(target.wsUrl!, { ...common, wsOptions: { localAddress } });
  }
  return new MqttClient(() => tcpConnect({ host: target.host, port: target.port, localAddress }), common);
}

/** The CONNACK's code: 0 when the client connected (it is then ended), else the refusal's return/reason code. */
export function connackCode(client: MqttClient): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no CONNACK within 5 s')), 5_000);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve(0);
    });
    client.once('error', (error) => {
      clearTimeout(timer);
      client.end(true);
      resolve((error as { code?: number }).code ?? -1);
    });
  });
}

export interface PlainResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies
  body: any;
}

/** One HTTP request (node:http) from `localAddress`. */
export function httpFrom(
  localAddress: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, localAddress }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/**
 * A WebSocket handshake from `localAddress` (or the default address): the open socket, or the HTTP answer that
 * refused it.
 */
export function websocketFrom(
  localAddress: string | undefined,
  url: string,
  headers: Record<string, string> = {},
  protocol?: string,
): Promise<PlainResponse & { ws?: WebSocket }> {
  const ws = new WebSocket(url, protocol, { headers, ...(localAddress ? { localAddress } : {}) });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ status: 101, headers: {}, body: undefined, ws }));
    ws.once('unexpected-response', (handshake, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text ? JSON.parse(text) : {} });
        handshake.destroy();
      });
    });
    // After a settled answer (the refusal read, the socket open) an error changes nothing.
    ws.on('error', reject);
  });
}

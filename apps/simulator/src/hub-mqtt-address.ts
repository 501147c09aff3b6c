import { ADMIN_CLOSE, ADMIN_WS_PATH, type AdminClientMessage, type AdminServerMessage } from '@telehub/contracts';
import WebSocket from 'ws';

/** The MQTT ports a hub reports in its admin channel's `auth_ok`; absent: that listener is off. */
export interface HubMqttPorts {
  mqttPort?: number;
  mqttTlsPort?: number;
}

/**
 * The MQTT address for a hub at `hubUrl` that listens on `ports`. It keeps the hub address's security: an
 * http:// hub gets plain MQTT, an https:// hub MQTT over TLS, so a device token never travels in plain text
 * where the operator chose TLS. Without such a TCP listener, MQTT over WebSocket on the hub's own port (`/mqtt`),
 * which every hub serves.
 */
export function mqttUrlFor(hubUrl: string, ports: HubMqttPorts): string {
  const hub = new URL(hubUrl);
  const tls = hub.protocol === 'https:';
  const port = tls ? ports.mqttTlsPort : ports.mqttPort;
  // URL.hostname keeps an IPv6 address's brackets: mqtt://[::1]:1883.
  if (port !== undefined) return `${tls ? 'mqtts' : 'mqtt'}://${hub.hostname}:${port}`;
  return `${tls ? 'wss' : 'ws'}://${hub.host}/mqtt`;
}

/**
 * Asks the hub which MQTT ports it listens on, the way the dashboard learns them: the `auth_ok` answer to the
 * admin WebSocket's `auth` message (docs/admin-protocol.md). An `auth` message rather than an Authorization
 * header, as the dashboard does: a refused token then closes the channel at once (4403), where a header token
 * the hub refuses leaves the connection waiting for an `auth` until TELEHUB_ADMIN_WS_AUTH_TIMEOUT_MS. The
 * connection is closed as soon as the answer is in.
 */
export function askHubMqttPorts(hubUrl: string, adminToken: string, timeoutMs: number): Promise<HubMqttPorts> {
  const url = `${hubUrl.replace(/^http/, 'ws')}${ADMIN_WS_PATH}`;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const fail = (reason: string) =>
      settle(() => {
        socket.terminate();
        reject(new Error(`could not ask the hub at ${hubUrl} for its MQTT port: ${reason}`));
      });
    const timer = setTimeout(() => fail(`no answer in ${timeoutMs} ms`), timeoutMs);
    socket.on('unexpected-response', (_request, response) =>
      fail(`${ADMIN_WS_PATH} answered HTTP ${response.statusCode}`),
    );
    socket.on('error', (error) => fail(error.message));
    socket.on('open', () => {
      const auth: AdminClientMessage = { type: 'auth', token: adminToken };
      socket.send(JSON.stringify(auth));
    });
    socket.on('close', (code, reason) =>
      fail(
        code === ADMIN_CLOSE.authFailed
          ? `the admin token was refused (${reason.toString() || code})`
          : `the admin channel closed (${code} ${reason.toString()})`,
      ),
    );
    socket.on('message', (data, isBinary) => {
      const message = isBinary ? undefined : parseMessage(data.toString());
      if (message?.type !== 'auth_ok') return;
      settle(() => {
        socket.close(1000);
        const ports: HubMqttPorts = {};
        if (message.mqttPort !== undefined) ports.mqttPort = message.mqttPort;
        if (message.mqttTlsPort !== undefined) ports.mqttTlsPort = message.mqttTlsPort;
        resolve(ports);
      });
    });
  });
}

function parseMessage(text: string): AdminServerMessage | undefined {
  try {
    return JSON.parse(text) as AdminServerMessage;
  } catch {
    return undefined;
  }
}

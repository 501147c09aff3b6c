import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { selfSignedCertificate } from './support/certificates.js';
import { countRows, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

describe('TLS: MQTT over TLS and HTTPS/WSS on the HTTP port, plain MQTT off', () => {
  let hub: TestHub;
  let tlsPort: number;
  beforeAll(async () => {
    const { cert, key } = selfSignedCertificate();
    // This test process's own fetch must accept the self-signed certificate.
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    hub = await startTestHub(
      {
        TELEHUB_TLS_CERT_FILE: cert,
        TELEHUB_TLS_KEY_FILE: key,
        TELEHUB_MQTT_TLS_PORT: '0',
        TELEHUB_PLAIN_LISTENERS: 'false',
      },
      { https: true },
    );
    const { MqttListener } = await import('../src/transports/mqtt/mqtt.listener.js');
    tlsPort = hub.hub.app.get(MqttListener).tlsPort!;
  });
  afterAll(() => hub?.close());

  it('has no plain MQTT listener', () => {
    expect(hub.hub.mqttPort).toBeUndefined();
  });

  it('accepts telemetry over MQTT/TLS and over WSS, and serves the API over HTTPS', async () => {
    const device = await provisionDevice(hub);
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, {
      protocolVersion: 5,
      username: device.id,
      password: device.token,
      rejectUnauthorized: false,
      reconnectPeriod: 0,
    });
    await client.publishAsync('devices/me/telemetry', '{"temp": 1}', { qos: 1 });
    await client.endAsync();
    expect(await countRows(hub, device.id)).toBe(1);

    const ws = new WebSocket(`${hub.baseUrl.replace('https', 'wss')}/v1/devices/ws`, {
      headers: { Authorization: `Bearer ${device.token}` },
      rejectUnauthorized: false,
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ type: 'telemetry', seq: 1, data: { temp: 2 } }));
    const ack = await new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    expect(JSON.parse(ack)).toEqual({ type: 'ack', seq: 1 });
    ws.close();
    expect(await countRows(hub, device.id)).toBe(2);
  });
});

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { deviceSnippets } from './snippet-text.js';

const credentials = { id: '0196a3c1-0000-7000-8000-0000000000aa', token: 'thd_abc-DEF_123' };

describe('device snippets', () => {
  const snippets = deviceSnippets(credentials, 'hub.local');

  it('connect as the device (id as user name, token as password) to its telemetry topic', () => {
    for (const text of [snippets.loop, snippets.once]) {
      expect(text).toContain(`-h hub.local -p 1883 -q 1 -u '${credentials.id}' -P '${credentials.token}'`);
      expect(text).toContain(`-t 'devices/${credentials.id}/telemetry'`);
    }
    expect(snippets.mqttjs).toContain("connectAsync('mqtt://hub.local:1883'");
    expect(snippets.mqttjs).toContain(`password: '${credentials.token}'`);
  });

  it('the MQTT.js program subscribes, answers and publishes on the topics the hub gives the device', () => {
    expect(snippets.mqttjs).toContain("await client.subscribeAsync('devices/me/commands', { qos: 1 });");
    expect(snippets.mqttjs).toContain(
      'client.publish(packet.properties?.responseTopic ?? `devices/me/commands/$' + '{command.id}/result`, reply',
    );
    expect(snippets.mqttjs).toContain("await client.publishAsync('devices/me/telemetry', JSON.stringify(");
  });

  it('use the MQTT port the hub reports', () => {
    const onPort = deviceSnippets(credentials, 'hub.local', 11883);
    expect(onPort.loop).toContain('-h hub.local -p 11883 ');
    expect(onPort.mqttjs).toContain("connectAsync('mqtt://hub.local:11883'");
  });

  it('the loop is valid bash that sends JSON like {"temp": 27.3}', () => {
    // Replace the publisher by echo: what bash would run, without a broker.
    const script = snippets.loop.replace(/^ {2}mosquitto_pub .*\\\n/m, '  echo ').replace('sleep 1', 'break');
    const out = execFileSync('bash', ['-c', script]).toString().trim();
    expect(JSON.parse(out.replace(/^-m /, ''))).toEqual({ temp: expect.any(Number) });
  });
});

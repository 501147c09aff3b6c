import { describe, expect, it } from 'vitest';
import { mqttUrlFor } from './hub-mqtt-address.js';

describe('mqttUrlFor', () => {
  it('gives an http:// hub plain MQTT on the port it reports', () => {
    expect(mqttUrlFor('http://hub.example:8080', { mqttPort: 11883, mqttTlsPort: 8883 })).toBe(
      'mqtt://hub.example:11883',
    );
  });

  it('gives an https:// hub MQTT over TLS, never plain MQTT, even when that listens too', () => {
    expect(mqttUrlFor('https://hub.example', { mqttPort: 1883, mqttTlsPort: 18883 })).toBe('mqtts://hub.example:18883');
  });

  it('falls back to MQTT over WebSocket on the hub’s own port when no such TCP listener is reported', () => {
    expect(mqttUrlFor('https://hub.example:9443', { mqttPort: 1883 })).toBe('wss://hub.example:9443/mqtt');
    expect(mqttUrlFor('http://127.0.0.1:8080', {})).toBe('ws://127.0.0.1:8080/mqtt');
  });

  it('keeps an IPv6 address in brackets', () => {
    expect(mqttUrlFor('http://[::1]:8080', { mqttPort: 1883 })).toBe('mqtt://[::1]:1883');
  });
});

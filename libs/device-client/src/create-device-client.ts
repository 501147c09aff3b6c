import type { DeviceClient, DeviceTransport } from './device-client.js';
import type { DeviceClientOptions } from './device-client.options.js';
import { MqttDeviceClient } from './mqtt-device-client.js';
import { WsDeviceClient } from './ws-device-client.js';

/** The client for `transport`; `url` is the MQTT URL for mqtt/mqtt5 and the hub (or endpoint) URL for ws. */
export function createDeviceClient(transport: DeviceTransport, options: DeviceClientOptions): DeviceClient {
  switch (transport) {
    case 'mqtt':
      return new MqttDeviceClient({ ...options, protocolVersion: 4 });
    case 'mqtt5':
      return new MqttDeviceClient({ ...options, protocolVersion: 5 });
    case 'ws':
      return new WsDeviceClient(options);
  }
}

export { CommandDedupe, type CommandSighting } from './command-dedupe.js';
export { createDeviceClient } from './create-device-client.js';
export { DeviceClientError, type DeviceClientErrorCode } from './device-client.error.js';
export type {
  CommandHandler,
  CommandOutcome,
  DeviceClient,
  DeviceClientEvents,
  DeviceCommand,
  DeviceTransport,
  DisconnectInfo,
  ReconnectInfo,
  TelemetryMessage,
  TelemetryPoint,
} from './device-client.js';
export { DEVICE_TRANSPORTS } from './device-client.js';
export { DEFAULT_RECONNECT_POLICY, DEVICE_CLIENT_DEFAULTS, type DeviceClientOptions } from './device-client.options.js';
export { deviceWebSocketUrl } from './device-endpoints.js';
export { MqttDeviceClient, type MqttDeviceClientOptions } from './mqtt-device-client.js';
export { gaussian, type Random, seededRandom, seedFromText } from './seeded-random.js';
export { DEFAULT_METRIC_WALKS, type MetricWalk, TelemetryWalk } from './telemetry-walk.js';
export { WsDeviceClient } from './ws-device-client.js';

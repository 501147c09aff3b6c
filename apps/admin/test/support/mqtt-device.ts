import mqtt, { type MqttClient } from 'mqtt';

/** A smooth daily-ish curve with a little noise, so charts look like a sensor's. */
function reading(time: number): { temp: number; hum: number } {
  const phase = time / 120_000;
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    temp: round(21 + 1.5 * Math.sin(phase) + 0.4 * Math.sin(phase * 7) + (Math.random() - 0.5) * 0.3),
    hum: round(48 + 6 * Math.cos(phase * 0.8) + (Math.random() - 0.5)),
  };
}

/**
 * What a device that was offline sends when it comes back: one batch of the readings it took, with their
 * times (`ts`), every `stepMs` over the last `spanMs`. Resolves when the hub committed it (PUBACK).
 */
export async function publishBacklog(device: SimulatedDevice, spanMs: number, stepMs: number): Promise<number> {
  const now = Date.now();
  const batch = [];
  for (let ts = now - spanMs; ts < now - stepMs; ts += stepMs) batch.push({ ts, ...reading(ts) });
  await device.client.publishAsync('devices/me/telemetry', JSON.stringify(batch), { qos: 1 });
  return batch.length;
}

export interface SimulatedDevice {
  client: MqttClient;
  /** Commands received, in order. */
  commands: { id: string; name: string; params: unknown }[];
  /** Telemetry messages the hub acknowledged (PUBACK: committed). */
  acknowledged(): number;
  stop(): Promise<void>;
}

/**
 * A device as a user would write it with MQTT.js (MQTT 5): publishes `temp` and `hum` every `intervalMs` at QoS 1,
 * answers every command with `{"status": "ok"}` on its response topic, and reconnects by itself.
 */
export async function startMqttDevice(
  url: string,
  credentials: { id: string; token: string },
  intervalMs: number,
): Promise<SimulatedDevice> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    username: credentials.id,
    password: credentials.token,
    reconnectPeriod: 300,
    connectTimeout: 5000,
  });
  const commands: SimulatedDevice['commands'] = [];
  let acknowledged = 0;
  client.on('message', (topic, payload, packet) => {
    if (!topic.endsWith('/commands')) return;
    const command = JSON.parse(payload.toString()) as { id: string; name: string; params: unknown };
    commands.push(command);
    const reply = JSON.stringify({ status: 'ok', result: { applied: command.name, params: command.params } });
    client.publish(packet.properties?.responseTopic ?? `devices/me/commands/${command.id}/result`, reply, { qos: 1 });
  });
  // Subscribed again after every reconnect: the hub keeps no session state for a clean start.
  client.on('connect', () => void client.subscribeAsync('devices/me/commands', { qos: 1 }).catch(() => undefined));
  await client.subscribeAsync('devices/me/commands', { qos: 1 });
  await client.publishAsync('devices/me/state', JSON.stringify({ firmware: '2.1.0', mode: 'eco' }), { qos: 1 });

  const timer = setInterval(() => {
    client.publish('devices/me/telemetry', JSON.stringify(reading(Date.now())), { qos: 1 }, (error) => {
      if (!error) acknowledged += 1;
    });
  }, intervalMs);

  return {
    client,
    commands,
    acknowledged: () => acknowledged,
    stop: async () => {
      clearInterval(timer);
      await client.endAsync(true).catch(() => undefined);
    },
  };
}

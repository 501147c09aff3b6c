import { deviceTopics, OWN_DEVICE_ALIAS } from '@telehub/contracts';
import { DEFAULT_MQTT_PORT, deviceHost } from '../api/hub-endpoints.js';

export interface DeviceCredentials {
  id: string;
  token: string;
}

export type SnippetKey = 'loop' | 'once' | 'mqttjs';

/** Ready-to-paste ways to send telemetry as this device (the shell ones quote for bash and zsh). */
export function deviceSnippets(
  { id, token }: DeviceCredentials,
  host = deviceHost(),
  port = DEFAULT_MQTT_PORT,
): Record<SnippetKey, string> {
  const base = `mosquitto_pub -h ${host} -p ${port} -q 1 -u '${id}' -P '${token}' -t '${deviceTopics.telemetry(id)}'`;
  // The MQTT.js program names the device by alias; its result topic is a template literal of that program.
  const own = {
    commands: deviceTopics.commands(OWN_DEVICE_ALIAS),
    telemetry: deviceTopics.telemetry(OWN_DEVICE_ALIAS),
    commandResult: deviceTopics.commandResult(OWN_DEVICE_ALIAS, `\${command.id}`),
  };
  return {
    loop: `while true; do\n  ${base} \\\n    -m "{\\"temp\\": $((RANDOM % 10 + 20)).$((RANDOM % 10))}"\n  sleep 1\ndone`,
    once: `${base} \\\n  -m '{"temp": 21.5, "hum": 40}'`,
    mqttjs: `import mqtt from 'mqtt';

const client = await mqtt.connectAsync('mqtt://${host}:${port}', {
  protocolVersion: 5,
  username: '${id}',
  password: '${token}',
});

// Answer commands sent from the dashboard.
await client.subscribeAsync('${own.commands}', { qos: 1 });
client.on('message', (_topic, payload, packet) => {
  const command = JSON.parse(payload.toString());
  const reply = JSON.stringify({ status: 'ok', result: { received: command.name } });
  client.publish(packet.properties?.responseTopic ?? \`${own.commandResult}\`, reply, { qos: 1 });
});

setInterval(async () => {
  // Resolves once the hub has committed the row.
  await client.publishAsync('${own.telemetry}', JSON.stringify({ temp: 20 + Math.random() * 5 }), { qos: 1 });
}, 1000);`,
  };
}

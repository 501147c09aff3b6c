import type { MqttClient } from 'mqtt';

/** The PUBACK reason code MQTT.js got for a QoS 1 publish (it rejects on codes of 0x80 and above). */
export async function pubackReason(client: MqttClient, topic: string, payload: string | Buffer): Promise<number> {
  try {
    const packet = await client.publishAsync(topic, payload, { qos: 1 });
    return (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0;
  } catch (error) {
    return (error as { code: number }).code;
  }
}

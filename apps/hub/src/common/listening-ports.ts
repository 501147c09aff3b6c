import { Injectable } from '@nestjs/common';

/** Where devices reach this hub over MQTT: absent for a listener that is off. */
export interface MqttPorts {
  mqttPort?: number;
  mqttTlsPort?: number;
}

/**
 * The ports this hub listens on, as bound: a configured 0 is an ephemeral port, known only once its listener
 * has started. The composition root (create-hub.ts) records them after the listeners start and before the HTTP
 * port takes connections; readers (the admin channel's auth_ok) need not know which service listens.
 */
@Injectable()
export class ListeningPorts {
  private mqttPorts: MqttPorts = {};

  setMqtt(tcpPort: number | undefined, tlsPort: number | undefined): void {
    this.mqttPorts = {
      ...(tcpPort === undefined ? {} : { mqttPort: tcpPort }),
      ...(tlsPort === undefined ? {} : { mqttTlsPort: tlsPort }),
    };
  }

  get mqtt(): MqttPorts {
    return this.mqttPorts;
  }
}

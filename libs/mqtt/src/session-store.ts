import type { MqttSession } from './mqtt-session.js';
import type { UnacknowledgedPublish } from './outbound-inflight.js';

/** What CONNECT asks of the session store, once authenticate accepted the client. */
export interface SessionOpenRequest {
  /** The identity authenticate answered with. */
  deviceId: string;
  /** The client identifier the session is known by (the assigned one when the client sent none). */
  clientId: string;
  /** 3.1.1 Clean Session or MQTT 5 Clean Start: discard any earlier session [MQTT-3.1.2-4] [MQTT-3.1.2-6]. */
  cleanStart: boolean;
  /** How long the session outlives this connection, in seconds; 0: it ends with the connection. */
  expirySeconds: number;
}

/** An earlier session of the client, taken over by the new connection. */
export interface StoredSession {
  subscriptions: ReadonlyArray<{ filter: string; qos: 0 | 1 }>;
  /** QoS 1 publishes of the server its earlier connection left unacknowledged, to resend with these ids. */
  unacknowledged: readonly UnacknowledgedPublish[];
}

/** How a connection of a session that outlives it ended. */
export interface SessionEnd {
  /** The expiry in force at the end (MQTT 5 DISCONNECT may change it); 0: discard the session now. */
  expirySeconds: number;
  unacknowledged: UnacknowledgedPublish[];
}

/**
 * Where sessions that outlive their connection are kept, as aedes' persistence keeps them: the server provides it
 * (a database, for one), the library calls it in order for each connection (open, then saves, then close), never
 * two calls of one connection at once. Without a store every session ends with its connection.
 */
export interface MqttSessionStore {
  /**
   * Discards (cleanStart) or takes over the client's earlier session, and from now on keeps this one when its
   * expiry is not 0. Resolves with the earlier session when there was one to take over ("session present"); a
   * rejection refuses the CONNECT with Server unavailable.
   */
  open(session: MqttSession, request: SessionOpenRequest): Promise<StoredSession | undefined>;
  /** The subscriptions changed (sessions with a non-zero expiry only); the SUBACK or UNSUBACK waits for it. */
  saveSubscriptions(session: MqttSession, subscriptions: ReadonlyMap<string, 0 | 1>): Promise<void>;
  /** The connection of a session it opened ended (not called for a refused CONNECT). */
  close(session: MqttSession, end: SessionEnd): Promise<void>;
}

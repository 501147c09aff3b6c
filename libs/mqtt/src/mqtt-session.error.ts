export type MqttSessionErrorCode =
  | 'ERR_SESSION_NOT_CONNECTED'
  | 'ERR_INVALID_QOS'
  | 'ERR_PACKET_IDS_EXHAUSTED'
  | 'ERR_PACKET_ID_NOT_RESTORED'
  | 'ERR_RECEIVE_MAXIMUM_REACHED'
  | 'ERR_PACKET_TOO_LARGE_FOR_CLIENT';

/** Thrown by MqttSession.publish() when a message cannot be sent; `code` is stable, the message is not. */
export class MqttSessionError extends Error {
  readonly code: MqttSessionErrorCode;

  constructor(code: MqttSessionErrorCode, message: string) {
    super(message);
    this.name = 'MqttSessionError';
    this.code = code;
  }
}

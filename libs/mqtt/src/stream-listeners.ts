import type { Duplex } from 'node:stream';
import type { MqttConnection } from './mqtt-connection.js';

/**
 * Each stream's connection. The stream's listeners are these shared functions (an emitter calls them with the stream
 * as `this`) instead of five closures per connection, about 300 bytes for every idle device.
 */
const connectionOf = new WeakMap<Duplex, MqttConnection>();

function onStreamData(this: Duplex, chunk: Buffer): void {
  connectionOf.get(this)?.handleData(chunk);
}

function onStreamDrain(this: Duplex): void {
  connectionOf.get(this)?.pump();
}

function onStreamEnd(this: Duplex): void {
  connectionOf.get(this)?.handlePeerGone();
}

function onStreamError(this: Duplex, error: Error): void {
  connectionOf.get(this)?.close('socket_error', error.message);
}

function onStreamClose(this: Duplex): void {
  connectionOf.get(this)?.handleStreamClose();
}

/** Feeds the stream's events to `connection`. */
export function listenToStream(stream: Duplex, connection: MqttConnection): void {
  connectionOf.set(stream, connection);
  stream.on('data', onStreamData);
  stream.on('drain', onStreamDrain);
  stream.on('end', onStreamEnd);
  stream.on('error', onStreamError);
  stream.on('close', onStreamClose);
}

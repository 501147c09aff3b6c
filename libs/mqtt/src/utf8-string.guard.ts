import { isUtf8 } from 'node:buffer';
import type { Parser } from 'mqtt-packet';

/** The parts of mqtt-packet's Parser (parser.js) that the guard wraps; they are not in its type declarations. */
interface ParserInternals {
  /** Offset of the next unread byte of the current packet's variable header and payload in `_list`. */
  _pos: number;
  _list: { slice(start: number, end: number): Buffer };
  _parseString(): string | null;
  _emitError(error: Error): void;
}

/** The two-byte length before every UTF-8 Encoded String [MQTT-1.5.4]. */
const LENGTH_BYTES = 2;

/**
 * Makes the parser reject a packet holding an ill-formed UTF-8 Encoded String: bytes that are not well-formed
 * UTF-8, including encoded surrogates U+D800..U+DFFF [MQTT-1.5.4-1] (3.1.1: [MQTT-1.5.3-1]), or an encoded
 * U+0000 [MQTT-1.5.4-2] ([MQTT-1.5.3-2]). Such a packet is a Malformed Packet: the parser emits 'error', so
 * the session closes (MQTT 5: DISCONNECT 0x81) instead of serving it.
 *
 * Why a wrapper: mqtt-packet decodes every such string (protocol name, client id, will topic, user name, topic
 * names and filters, string properties and user property pairs) in one method, `_parseString`, with
 * `buffer.toString('utf8')`, which replaces ill-formed sequences with U+FFFD. Once decoded, the malformed
 * bytes cannot be told from a client that really sent U+FFFD, so they must be checked before decoding, on the
 * raw bytes, and this one method sees every string of every packet.
 */
export function rejectIllFormedStrings(parser: Parser): void {
  const internals = parser as unknown as ParserInternals;
  const parseString = internals._parseString;
  internals._parseString = function guardedParseString(this: ParserInternals): string | null {
    const start = this._pos + LENGTH_BYTES;
    const decoded = parseString.call(this);
    if (decoded === null) return null;
    if (isWellFormedMqttString(this._list.slice(start, this._pos))) return decoded;
    this._emitError(new Error('Malformed UTF-8 string'));
    // null makes the calling step stop as it does for a truncated string; its own error comes second.
    return null;
  };
}

/** Well-formed UTF-8 (isUtf8 also refuses surrogates, overlong forms and code points above U+10FFFF), no U+0000. */
export function isWellFormedMqttString(bytes: Buffer): boolean {
  // In well-formed UTF-8 a zero byte only ever encodes U+0000.
  return isUtf8(bytes) && !bytes.includes(0);
}

import { parser as createParser, type Packet, type Parser } from 'mqtt-packet';
import { rejectIllFormedStrings } from './utf8-string.guard.js';

/** What one connection keeps of its parsing between chunks, and where the packets of its chunks go. */
export interface ParseTarget {
  /** The parser holding the start of a packet whose rest has not arrived yet; undefined between packets. */
  heldParser: PooledParser | undefined;
  /** What mqtt-packet needs of the connection's CONNECT to parse its later packets. */
  parserSettings: ParserSettings;
  onPacket(packet: Packet): void;
  onParseError(error: Error): void;
}

/**
 * mqtt-packet's parser reads `protocolVersion` (MQTT 5 properties) and `bridgeMode` of the CONNECT it parsed, which
 * it keeps whole as `settings`, password included. A connection keeps only these two, as one of a few shared objects.
 */
export interface ParserSettings {
  readonly protocolVersion?: number;
  readonly bridgeMode?: boolean;
}

/** The parts of mqtt-packet's Parser (parser.js) read here; they are not in its type declarations. */
interface ParserInternals {
  settings: ParserSettings;
  /** The step of the current packet: 0 = its first byte is next, nothing of it has been read. */
  _stateCounter: number;
  /** Bytes received and not yet consumed by a packet. */
  _list: { length: number };
  error: Error | null;
}

/** A parser whose packets and errors go to whichever connection it is parsing for. */
export class PooledParser {
  target: ParseTarget | undefined;
  readonly parser: Parser;

  constructor() {
    this.parser = createParser();
    // mqtt-packet would decode ill-formed UTF-8 into U+FFFD and serve the packet; it is malformed [MQTT-1.5.4-1].
    rejectIllFormedStrings(this.parser);
    this.parser.on('packet', (packet: Packet) => this.target?.onPacket(packet));
    this.parser.on('error', (error: Error) => this.target?.onParseError(error));
  }

  /** At a packet boundary: nothing of a packet read, no byte left over, no error. */
  get betweenPackets(): boolean {
    const internals = this.parser as unknown as ParserInternals;
    return internals._stateCounter === 0 && internals._list.length === 0 && internals.error === null;
  }
}

export const NO_CONNECT_YET: ParserSettings = Object.freeze({});
const SHARED_SETTINGS = new Map<string, ParserSettings>();

/**
 * Parsers shared by the connections of a process. An mqtt-packet parser is a stream of its own (an EventEmitter, a
 * `bl` buffer list, the packet being read) and keeps the CONNECT it parsed, password included: about 1.3 KiB per
 * connection when each has its own. Yet an idle connection is between packets, and a parser between packets holds
 * nothing but that CONNECT. So a connection borrows the spare parser for each chunk and gives it back when the chunk
 * ended on a packet boundary; only a connection with part of a packet received keeps one (`heldParser`) until the
 * rest arrives. The CONNECT's `settings` are reduced to what later packets need before a parser is given back.
 */
export class PacketParserPool {
  private spare: PooledParser | undefined;

  /** Parses `chunk` for `target`; its packets and errors reach the target before this returns. */
  parse(chunk: Buffer, target: ParseTarget): void {
    // Taken out of the pool while in use: a parse started from within this one would get a parser of its own.
    const pooled = target.heldParser ?? this.spare ?? new PooledParser();
    if (pooled === this.spare) this.spare = undefined;
    const internals = pooled.parser as unknown as ParserInternals;
    pooled.target = target;
    internals.settings = target.parserSettings;
    pooled.parser.parse(chunk);
    // Changed only by a CONNECT in this chunk.
    if (internals.settings !== target.parserSettings) target.parserSettings = sharedSettings(internals.settings);
    if (pooled.betweenPackets) {
      target.heldParser = undefined;
      pooled.target = undefined;
      internals.settings = NO_CONNECT_YET;
      this.spare ??= pooled;
    } else {
      // Part of a packet, or an error: a parser after an error is not reused (the connection is closing).
      target.heldParser = internals.error === null ? pooled : undefined;
    }
  }

  /** For tests: the parser the next connection between packets would borrow. */
  get spareParser(): PooledParser | undefined {
    return this.spare;
  }
}

/** One frozen object per (protocol version, bridge mode): what a connection keeps of its CONNECT. */
function sharedSettings(settings: ParserSettings): ParserSettings {
  if (settings.protocolVersion === undefined) return NO_CONNECT_YET;
  const key = `${settings.protocolVersion}:${settings.bridgeMode === true}`;
  let shared = SHARED_SETTINGS.get(key);
  if (!shared) {
    shared = Object.freeze({ protocolVersion: settings.protocolVersion, bridgeMode: settings.bridgeMode === true });
    SHARED_SETTINGS.set(key, shared);
  }
  return shared;
}

/** The pool of this process. */
export const packetParsers = new PacketParserPool();

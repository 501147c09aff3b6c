import { Duplex } from 'node:stream';

/**
 * Two connected in-memory streams, like the two ends of a TCP connection: bytes written to one are read from the
 * other on a later tick (never synchronously, as with a real socket), ending one ends the other, and writes
 * gathered by cork() arrive as one chunk (like one TCP segment).
 */
export function createDuplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const peerOf = (self: number): Duplex => ends[1 - self]!;
  const deliver = (self: number, chunk: Buffer | null): void => {
    process.nextTick(() => {
      const peer = peerOf(self);
      if (!peer.destroyed && !peer.readableEnded) peer.push(chunk);
    });
  };
  for (const self of [0, 1]) {
    ends.push(
      new Duplex({
        allowHalfOpen: false,
        read() {},
        write(chunk: Buffer, _encoding, callback) {
          deliver(self, chunk);
          callback();
        },
        writev(chunks, callback) {
          deliver(self, Buffer.concat(chunks.map(({ chunk }) => chunk as Buffer)));
          callback();
        },
        final(callback) {
          deliver(self, null);
          callback();
        },
        destroy(error, callback) {
          deliver(self, null);
          callback(error);
        },
      }),
    );
  }
  return [ends[0]!, ends[1]!];
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendContinue } from '../../http-server/send-continue.js';

/** Where the device ingest routes live; create-hub keeps its app-wide body parsers away from them. */
export const DEVICE_HTTP_PREFIX = '/api/v1/device/';

/**
 * True for requests whose body the device ingest routes read themselves, with the device message limit
 * (TELEHUB_MAX_MESSAGE_BYTES, not TELEHUB_MAX_REQUEST_BYTES), after the token check, and with the ingest
 * error codes. Case-insensitive like Express routing, so every request that reaches those routes matches.
 */
export function readsOwnBody(request: IncomingMessage): boolean {
  return request.url?.toLowerCase().startsWith(DEVICE_HTTP_PREFIX) ?? false;
}

export type BodyResult =
  | { ok: true; body: Buffer }
  | { ok: false; reason: 'too_large'; bytes: number }
  | { ok: false; reason: 'aborted' }
  | { ok: false; reason: 'unsupported_encoding' };

/**
 * Reads a request body of at most `limit` bytes. A declared Content-Length over the limit is refused before
 * anything is read; an undeclared (chunked) body is cut off as soon as it passes the limit, so a device
 * can never make the hub buffer more than `limit` bytes.
 */
export function readBody(request: IncomingMessage, limit: number, response?: ServerResponse): Promise<BodyResult> {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') return Promise.resolve({ ok: false, reason: 'unsupported_encoding' });
  const declared = Number(request.headers['content-length']);
  if (declared > limit) return Promise.resolve({ ok: false, reason: 'too_large', bytes: declared });
  if (request.readableEnded) throw new Error('the request body was already read by another parser');
  sendContinue(request, response);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const finish = (result: BodyResult) => {
      request.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limit) {
        // Stop reading; the 413 goes out with `Connection: close`, which discards the rest.
        request.pause();
        finish({ ok: false, reason: 'too_large', bytes });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish({ ok: true, body: Buffer.concat(chunks, bytes) });
    const onClose = () => finish({ ok: false, reason: 'aborted' });
    request.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onClose);
  });
}

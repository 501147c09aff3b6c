import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error.js';

/**
 * What body-parser (and raw-body under it) passes to the Express error handler: an http-errors error with
 * a status, `expose` for client errors, and usually a `type`. A zlib error from decompressing a body is
 * passed on with status 400 and `expose`, but no `type`.
 */
interface BodyParserError {
  status?: unknown;
  expose?: unknown;
  type?: unknown;
  message?: string;
  limit?: number;
  encoding?: string;
  charset?: string;
}

/**
 * The Problem Details answer for a request body the parsers refused, or undefined when the error is not a
 * body-parser client error (4xx). Every such error is the client's: it must never become a 500. `limitSetting`
 * names the setting whose limit the body passed.
 */
export function bodyParserProblem(
  exception: unknown,
  request: IncomingMessage,
  limitSetting = 'TELEHUB_MAX_REQUEST_BYTES',
): ApiError | undefined {
  const error = exception as BodyParserError | undefined;
  if (typeof error?.status !== 'number' || error.status < 400 || error.status > 499 || error.expose !== true) {
    return undefined;
  }
  switch (error.type) {
    case 'entity.too.large':
      return payloadTooLarge(Number(error.limit), limitSetting);
    case 'entity.parse.failed':
      return new ApiError(400, 'invalid_json', 'Malformed JSON', error.message);
    case 'encoding.unsupported':
      // RFC 9110 §15.5.16: 415 for a Content-Encoding the server does not support.
      return new ApiError(
        415,
        'unsupported_encoding',
        'Unsupported content encoding',
        `Content-Encoding ${JSON.stringify(error.encoding ?? contentEncoding(request))} is not supported; send the body uncompressed, or as gzip, deflate or br`,
      );
    case 'charset.unsupported':
      return new ApiError(
        415,
        'unsupported_charset',
        'Unsupported charset',
        `charset ${JSON.stringify(error.charset ?? '')} is not supported; send UTF-8`,
      );
    case 'request.aborted':
      return new ApiError(400, 'request_aborted', 'Request aborted', 'the body ended before it was complete');
    case 'request.size.invalid':
      return new ApiError(400, 'invalid_body', 'Invalid body', 'the body is not as long as its Content-Length says');
  }
  if (error.status === 400 && error.type === undefined) {
    // A decompression error: the body is not what its Content-Encoding says (plain bytes sent as gzip, a cut-off stream).
    return new ApiError(
      400,
      'invalid_body',
      'Invalid body',
      `the body is not valid ${contentEncoding(request)} data (${error.message})`,
    );
  }
  return new ApiError(error.status, 'invalid_body', 'Invalid body', error.message);
}

/** 413 for a body over `limit` bytes, naming the setting that sets it. */
export function payloadTooLarge(limit: number, limitSetting: string): ApiError {
  return new ApiError(
    413,
    'payload_too_large',
    'Payload too large',
    `request bodies are limited to ${limit} bytes (${limitSetting})`,
  );
}

function contentEncoding(request: IncomingMessage): string {
  return String(request.headers['content-encoding'] ?? 'identity');
}

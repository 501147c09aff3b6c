import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { PROBLEM_CONTENT_TYPE } from '@telehub/contracts';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ApiError } from './api-error.js';

/** Turns every error that leaves a controller into `application/problem+json` (RFC 9457). */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    sendProblem(exception, request, response, this.logger);
  }
}

/** Also used as the Express error handler, for errors raised before Nest routing (body parsing). */
export function sendProblem(exception: unknown, request: Request, response: Response, logger: Logger): void {
  const error = toApiError(exception);
  if (error.status >= 500) logger.error({ err: exception, url: request.originalUrl }, 'request failed');
  if (response.headersSent) {
    response.end();
    return;
  }
  for (const [name, value] of Object.entries(error.headers ?? {})) response.setHeader(name, value);
  response
    .status(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(error.toProblem(request.originalUrl?.split('?')[0])));
}

function toApiError(exception: unknown): ApiError {
  if (exception instanceof ApiError) return exception;
  // body-parser errors carry a status and a type (entity.too.large, entity.parse.failed, ...).
  const bodyError = exception as { status?: number; type?: string; limit?: number; message?: string };
  if (bodyError?.type === 'entity.too.large') {
    return new ApiError(
      413,
      'payload_too_large',
      'Payload too large',
      `request bodies are limited to ${bodyError.limit} bytes (TELEHUB_MAX_REQUEST_BYTES)`,
    );
  }
  if (bodyError?.type === 'entity.parse.failed') {
    return new ApiError(400, 'invalid_json', 'Malformed JSON', bodyError.message);
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = status === 404 ? 'route_not_found' : `http_${status}`;
    return new ApiError(status, code, exception.message, exception.message);
  }
  return new ApiError(500, 'internal_error', 'Internal server error', 'an unexpected error occurred; see the hub log');
}

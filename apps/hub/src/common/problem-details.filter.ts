import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { PROBLEM_CONTENT_TYPE } from '@telehub/contracts';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ApiError } from './api-error.js';
import { bodyParserProblem } from './body-parser-errors.js';

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
  const error = toApiError(exception, request);
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

function toApiError(exception: unknown, request: Request): ApiError {
  if (exception instanceof ApiError) return exception;
  const bodyProblem = bodyParserProblem(exception, request);
  if (bodyProblem) return bodyProblem;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = status === 404 ? 'route_not_found' : `http_${status}`;
    return new ApiError(status, code, exception.message, exception.message);
  }
  return new ApiError(500, 'internal_error', 'Internal server error', 'an unexpected error occurred; see the hub log');
}

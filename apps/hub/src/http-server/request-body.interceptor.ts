import type { IncomingMessage } from 'node:http';
import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { jsonTextTooDeep } from '@telehub/contracts';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Observable } from 'rxjs';
import { ApiError } from '../common/api-error.js';
import { bodyParserProblem, payloadTooLarge } from '../common/body-parser-errors.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { readsOwnBody } from '../transports/http/device-http.body.js';
import { BODY_LIMIT, type BodyLimit } from './body-limit.decorator.js';
import { sendContinue } from './send-continue.js';

const JSON_TYPES = ['application/json'];
const TEXT_TYPES = ['text/csv', 'text/plain'];

const LIMIT_SETTINGS: Record<BodyLimit, string> = {
  admin: 'TELEHUB_MAX_REQUEST_BYTES',
  bulk: 'TELEHUB_BULK_MAX_REQUEST_BYTES',
};

/**
 * Reads admin request bodies (JSON, CSV) after the guards, never before: an interceptor runs once the admin
 * token is checked, and its route is known, so an unauthenticated client cannot make the hub buffer and parse a
 * body, and each route has its own limit (@BulkBody()). What @Body() and the validation pipes see is parsed
 * here. The device ingest routes read their own bodies (device message limit, after the device token check).
 * A body that does not arrive in time is cut off by the HTTP server (TELEHUB_HTTP_REQUEST_TIMEOUT_MS, 408).
 */
@Injectable()
export class RequestBodyInterceptor implements NestInterceptor {
  private readonly limits: Record<BodyLimit, number>;
  private readonly parsers: Record<BodyLimit, RequestHandler[]>;

  constructor(
    private readonly reflector: Reflector,
    @Inject(HUB_CONFIG) config: HubConfig,
  ) {
    const depth = config.payloads.jsonMaxDepth;
    this.limits = { admin: config.http.maxRequestBytes, bulk: config.http.bulkMaxRequestBytes };
    this.parsers = { admin: parsers(this.limits.admin, depth), bulk: parsers(this.limits.bulk, depth) };
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<Request>();
    const response = context.switchToHttp().getResponse<Response>();
    // `is` answers null for a request without a body, false for a body of another type (left unread).
    if (readsOwnBody(request) || !request.is([...JSON_TYPES, ...TEXT_TYPES])) return next.handle();
    const limit =
      this.reflector.getAllAndOverride<BodyLimit>(BODY_LIMIT, [context.getHandler(), context.getClass()]) ?? 'admin';
    // A declared length over the limit is refused before anything is read (body-parser would read it all, and
    // throw it away, before answering); the rest of the body is not wanted, so the connection then closes.
    const encoding = request.headers['content-encoding'] ?? 'identity';
    if (encoding === 'identity' && Number(request.headers['content-length']) > this.limits[limit]) {
      throw payloadTooLarge(this.limits[limit], LIMIT_SETTINGS[limit]);
    }
    sendContinue(request, response);
    for (const parser of this.parsers[limit]) {
      try {
        await run(parser, request, response);
      } catch (error) {
        // The depth check's own ApiError comes back through body-parser as it is.
        if (error instanceof ApiError) throw error;
        throw bodyParserProblem(error, request, LIMIT_SETTINGS[limit]) ?? error;
      }
    }
    return next.handle();
  }
}

/** Express's JSON and text parsers with one limit, JSON with the depth check on its raw text. */
function parsers(limit: number, jsonMaxDepth: number): RequestHandler[] {
  return [
    express.json({
      type: JSON_TYPES,
      limit,
      // Runs on the raw body before parsing: nesting is measured there, since what follows (validation,
      // serialization) recurses.
      verify: (_request: IncomingMessage, _response: unknown, body: Buffer) => {
        if (jsonTextTooDeep(body.toString('utf8'), jsonMaxDepth)) {
          throw new ApiError(
            400,
            'json_too_deep',
            'JSON nested too deep',
            `the body nests deeper than ${jsonMaxDepth} levels (TELEHUB_JSON_MAX_DEPTH)`,
          );
        }
      },
    }),
    express.text({ type: TEXT_TYPES, limit }),
  ];
}

function run(parser: RequestHandler, request: Request, response: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    void parser(request, response, (error?: unknown) => (error ? reject(error) : resolve()));
  });
}

import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags, type SchemaObject } from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';
import { bearerToken } from '../../admin-auth/bearer-token.js';
import { Public } from '../../admin-auth/public.decorator.js';
import { authThrottledError } from '../../auth/auth-throttle.js';
import { ApiError } from '../../common/api-error.js';
import { HUB_CONFIG, type HubConfig } from '../../config/hub-config.js';
import type { DeviceAuthResult } from '../../device-auth/device-auth.service.js';
import type { IngestOutcome, Unavailability } from '../../ingest/ingest.service.js';
import { ProblemResponses } from '../../openapi/problem-responses.decorator.js';
import { DevicePort } from '../device-port.js';
import { readBody } from './device-http.body.js';
import { HttpRateLimit } from './http-rate-limit.js';

const TRANSPORT = 'http';

// The device message shapes, for the OpenAPI document only: ingest (telemetry-payload.ts) does the checking, on a
// body read here after the device token, so no validation pipe sees it and these are plain OpenAPI schemas.
const TelemetryObject: SchemaObject = {
  type: 'object',
  description: 'Metric name → number (booleans are stored as 1/0)',
  properties: {
    ts: {
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      description: 'Epoch milliseconds or an RFC 3339 time; the time of receipt when absent',
    },
  },
  additionalProperties: { anyOf: [{ type: 'number' }, { type: 'boolean' }] },
};
const TelemetryMessage: SchemaObject = {
  anyOf: [TelemetryObject, { type: 'array', items: TelemetryObject, minItems: 1 }],
};
const StateReport: SchemaObject = {
  type: 'object',
  additionalProperties: {},
  description: 'Shallow-merged into the reported state; a null value removes the key',
};
const IngestResultSchema = z
  .object({ rows: z.number().int().describe('Telemetry rows committed (0 for a state report)') })
  .meta({ id: 'IngestResult' });
type IngestResult = z.infer<typeof IngestResultSchema>;

// What each error status means on the device ingest routes.
const DeviceProblemResponses = () =>
  ProblemResponses(
    [
      400,
      'Not JSON (`invalid_json`), nested too deep (`json_too_deep`), not a valid message (`invalid_payload`), state over TELEHUB_STATE_MAX_BYTES (`state_too_large`), or refused by the database (`data_rejected`): do not send it again',
    ],
    [401, 'Missing or invalid device token'],
    [413, 'Body over TELEHUB_MAX_MESSAGE_BYTES (`message_too_large`) or too many points (`too_many_points`)'],
    [415, 'Content-Encoding other than identity'],
    [
      429,
      'Over the device rate (TELEHUB_DEVICE_RATE_PER_SEC, `rate_limited`), or too many failed authentications from this address (`auth_throttled`): send again after Retry-After seconds',
    ],
    [
      503,
      'The database is unavailable (`unavailable`), the ingest backlog is full (`overloaded`) or the hub is shutting down: send again after Retry-After seconds, on this or another hub',
    ],
  );

/**
 * Device ingest over plain HTTP, for devices that wake, send and sleep. Authenticated by the device token
 * (not the admin token), answered only after the data is committed. The body is read here rather than by
 * the app-wide parser: it has the device message limit and must not be read before the token is checked.
 *
 * A socket device is held back by TCP when the hub cannot take more; an HTTP device cannot be, and a request
 * left waiting is abandoned and sent again by its client, piling up copies. So HTTP refuses at once instead:
 * 503 with Retry-After while the database is unavailable or the ingest backlog is above its high-water mark,
 * 429 with Retry-After over the device's rate. Delivery is at-least-once: a client that gave up on a request
 * the hub then committed sends a copy.
 */
@ApiTags('device ingest')
@ApiBearerAuth('device')
@Public()
@Controller('api/v1/device')
export class DeviceHttpController {
  constructor(
    private readonly port: DevicePort,
    private readonly rate: HttpRateLimit,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  @Post('telemetry')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send telemetry as the device (device token)',
    description:
      'One object of metrics, `{"temp": 21.5, "ts": 1732190000000}`, or an array of them. Answered once the rows are committed.',
  })
  @ApiBody({ schema: TelemetryMessage })
  @ApiOkResponse({ standardSchema: IngestResultSchema })
  @DeviceProblemResponses()
  async telemetry(@Req() request: Request): Promise<IngestResult> {
    const receivedAt = Date.now();
    const { deviceId, body } = await this.admit(request);
    return answer(await this.port.ingestTelemetry(deviceId, TRANSPORT, body, receivedAt));
  }

  @Post('state')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Report state as the device (device token)',
    description: 'A JSON object, shallow-merged into the reported state, e.g. `{"firmware": "1.4.2"}`.',
  })
  @ApiBody({ schema: StateReport })
  @ApiOkResponse({ standardSchema: IngestResultSchema })
  @DeviceProblemResponses()
  async state(@Req() request: Request): Promise<IngestResult> {
    const { deviceId, body } = await this.admit(request);
    return answer(await this.port.reportState(deviceId, TRANSPORT, body, { waitForDatabase: false }));
  }

  /** Everything before ingest, cheapest refusal first: hub state, token, rate, then the body. */
  private async admit(request: Request): Promise<{ deviceId: string; body: Buffer }> {
    const unavailable = this.port.unavailability();
    if (unavailable) throw unavailableError(unavailable);
    const deviceId = await this.authenticate(request);
    const waitMs = await this.rate.admit(deviceId);
    if (waitMs > 0) {
      const message = `more than ${this.config.devices.ratePerSec} messages per second (TELEHUB_DEVICE_RATE_PER_SEC)`;
      this.port.recordRejected(deviceId, TRANSPORT, 'rate_limited', message);
      throw new ApiError(429, 'rate_limited', 'Too many requests', message, undefined, {
        'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))),
      });
    }
    const body = await this.body(request, deviceId);
    // The client gave up while its body arrived: it will send the message again, so this copy is not stored.
    if (request.socket.destroyed) {
      throw new ApiError(400, 'request_aborted', 'Request aborted', 'the client closed the connection');
    }
    return { deviceId, body };
  }

  private async authenticate(request: Request): Promise<string> {
    const token = bearerToken(request.headers.authorization);
    let result: DeviceAuthResult;
    try {
      result = await this.port.authenticate(token, {
        transport: TRANSPORT,
        remoteAddress: request.socket.remoteAddress,
      });
    } catch {
      // The token could not be looked up: the database is unavailable, not the token wrong.
      throw unavailableError({
        ok: false,
        code: 'unavailable',
        message: 'could not check the device token; send the message again later',
        retryAfterSeconds: Math.max(1, Math.ceil(this.config.ingest.retryMaxMs / 1000)),
      });
    }
    if (result.ok) return result.deviceId;
    if (result.reason === 'throttled') throw authThrottledError(result.retryAfterMs);
    throw ApiError.unauthorized(
      token
        ? 'the device token is not valid (unknown, revoked or expired, or the device is disabled)'
        : 'send the device token as "Authorization: Bearer thd_…"',
    );
  }

  private async body(request: Request, deviceId: string): Promise<Buffer> {
    const limit = this.config.devices.maxMessageBytes;
    const result = await readBody(request, limit, request.res);
    if (result.ok) return result.body;
    if (result.reason === 'unsupported_encoding') {
      throw new ApiError(415, 'unsupported_encoding', 'Unsupported content encoding', 'send the body uncompressed');
    }
    if (result.reason === 'aborted') {
      throw new ApiError(400, 'request_aborted', 'Request aborted', 'the body ended before it was complete');
    }
    const message = `request bodies are limited to ${limit} bytes (TELEHUB_MAX_MESSAGE_BYTES)`;
    this.port.recordRejected(deviceId, TRANSPORT, 'message_too_large', message, { bytes: result.bytes });
    // The rest of the body is not read; closing the connection is the only way to skip it.
    throw new ApiError(413, 'message_too_large', 'Payload too large', message, undefined, { Connection: 'close' });
  }
}

function answer(outcome: IngestOutcome): IngestResult {
  if (outcome.ok) return { rows: outcome.rows };
  if ('retryAfterSeconds' in outcome) throw unavailableError(outcome);
  switch (outcome.code) {
    case 'too_many_points':
      throw new ApiError(413, outcome.code, 'Too many points', outcome.message);
    default:
      throw new ApiError(400, outcome.code, 'Invalid message', outcome.message);
  }
}

function unavailableError(outcome: Unavailability): ApiError {
  return new ApiError(503, outcome.code, 'Service unavailable', outcome.message, undefined, {
    'Retry-After': String(outcome.retryAfterSeconds),
  });
}

import type { OpenAPIObject } from '@nestjs/swagger';

type Json = Record<string, unknown>;
interface Operation {
  security?: Record<string, unknown>[];
  responses: Record<string, Json & { description?: string; content?: Json }>;
}

const AUTH_THROTTLED =
  'too many failed authentications from this address (`auth_throttled`, TELEHUB_AUTH_FAILURE_BURST): refused before the token is checked; send again after Retry-After seconds';
const REQUEST_TIMEOUT =
  'The request (headers and body) did not arrive within TELEHUB_HTTP_REQUEST_TIMEOUT_MS (`request_timeout`); the connection is closed';
const RETRY_AFTER = {
  description: 'Seconds to wait before sending again (RFC 9110 §10.2.3)',
  schema: { type: 'integer', minimum: 1 },
};

/**
 * Adds the refusals every token-checked route can give, whatever the route: 429 `auth_throttled` (AuthThrottle,
 * before the token is looked up) and 408 `request_timeout` (the HTTP server's request timeout). Done once over
 * the document rather than on each controller, so a new route cannot leave them out. A route that documents a
 * 429 of its own keeps it, with the throttle added to its description.
 */
export function documentTransportRefusals(document: OpenAPIObject): void {
  for (const methods of Object.values(document.paths)) {
    for (const operation of Object.values(methods as Record<string, Operation>)) {
      if (!operation?.responses || !operation.security?.length) continue;
      // Every token-checked route documents its 401 as Problem Details; the new answers have the same body.
      const content = operation.responses['401']?.content;
      const existing = operation.responses['429'];
      if (!existing) {
        const description = `Too many requests: ${AUTH_THROTTLED}`;
        operation.responses['429'] = { description, ...(content && { content }) };
      } else if (!existing.description?.includes('auth_throttled')) {
        existing.description = `${existing.description ?? 'Too many requests'}; or ${AUTH_THROTTLED}`;
      }
      const tooMany = operation.responses['429']!;
      tooMany.headers ??= { 'Retry-After': RETRY_AFTER };
      operation.responses['408'] ??= { description: REQUEST_TIMEOUT, ...(content && { content }) };
    }
  }
}

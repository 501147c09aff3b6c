import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { documentMediaTypes } from './media-types.js';
import { documentTransportRefusals } from './transport-refusals.js';

/** Serves the OpenAPI document at /api/openapi.json and a browsable UI at /api/docs. */
export function setupOpenApi(app: INestApplication, version: string): void {
  const config = new DocumentBuilder()
    .setTitle('telehub API')
    .setDescription(
      'Device provisioning and administration. Every /api route needs an admin token (`Authorization: Bearer tha_…`) whose role allows it (`x-telehub-role`: viewer reads, operator also sends and cancels commands, admin also provisions and manages tokens); the device routes under /api/v1/device take a device token instead.',
    )
    .setVersion(version)
    // DocumentBuilder says `bearerFormat: JWT` unless told otherwise; these tokens carry no claims to decode.
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'opaque',
      description: `${opaqueToken('Admin', 'tha_')} One set in TELEHUB_ADMIN_TOKEN may be any string of 32 or more.`,
    })
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque',
        description: `${opaqueToken('Device', 'thd_')} Used by the device routes under /api/v1/device.`,
      },
      'device',
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque',
        description:
          'The metrics token (TELEHUB_METRICS_TOKEN, any string of 32 or more) for /metrics, which an admin token also opens.',
      },
      'metrics',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  documentMediaTypes(document);
  documentTransportRefusals(document);
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/openapi.json',
    yamlDocumentUrl: 'api/openapi.yaml',
    customSiteTitle: 'telehub API',
  });
}

/** How the hub's tokens look (auth/token-codec.ts), for the security schemes. */
function opaqueToken(kind: string, prefix: string): string {
  return (
    `${kind} token: an opaque string, \`${prefix}\` and 43 base64url characters (256 random bits). ` +
    'Not a JWT: it holds no claims; the hub looks up its SHA-256 hash.'
  );
}

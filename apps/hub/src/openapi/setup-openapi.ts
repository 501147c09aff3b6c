import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { hoistSchemaDefinitions } from './zod-openapi.js';

/** Serves the OpenAPI document at /api/openapi.json and a browsable UI at /api/docs. */
export function setupOpenApi(app: INestApplication, version: string): void {
  const config = new DocumentBuilder()
    .setTitle('telehub API')
    .setDescription(
      'Device provisioning and administration. Every /api route needs an admin token: `Authorization: Bearer tha_…`.',
    )
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Admin token (tha_…)' })
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Device token (thd_…): /api/v1/device' }, 'device')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  hoistSchemaDefinitions(document);
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/openapi.json',
    yamlDocumentUrl: 'api/openapi.yaml',
    customSiteTitle: 'telehub API',
  });
}

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { hoistSchemaDefinitions, openApiSchema } from './zod-openapi.js';

const Thing = z.object({ name: z.string() }).meta({ id: 'Thing' });
const Box = z.object({ things: z.array(Thing) }).meta({ id: 'Box' });

function documentWith(...schemas: Record<string, unknown>[]) {
  return {
    paths: Object.fromEntries(
      schemas.map((schema, i) => [
        `/p${i}`,
        { get: { responses: { 200: { content: { 'application/json': { schema } } } } } },
      ]),
    ),
  } as { paths: Record<string, unknown>; components?: { schemas?: Record<string, unknown> } };
}

describe('hoistSchemaDefinitions', () => {
  it('moves named schemas into components.schemas and points every $ref there', () => {
    const document = documentWith(openApiSchema(Box), openApiSchema(z.array(Thing)));

    hoistSchemaDefinitions(document);

    const text = JSON.stringify(document);
    expect(text).not.toContain('#/definitions/');
    expect(text).not.toContain('"definitions"');
    expect(Object.keys(document.components!.schemas!).sort()).toEqual(['Box', 'Thing']);
    expect(document.components!.schemas!.Box).toMatchObject({
      properties: { things: { items: { $ref: '#/components/schemas/Thing' } } },
    });
    expect(JSON.stringify(document.paths['/p0'])).toContain('"$ref":"#/components/schemas/Box"');
  });

  it('keeps schemas that components already has', () => {
    const document = documentWith(openApiSchema(Thing));
    document.components = { schemas: { Other: { type: 'string' } } };
    hoistSchemaDefinitions(document);
    expect(Object.keys(document.components.schemas!).sort()).toEqual(['Other', 'Thing']);
  });

  it('refuses two different schemas under one name', () => {
    const impostor = z.object({ name: z.number() }).meta({ id: 'Thing' });
    const document = documentWith(openApiSchema(Thing), openApiSchema(impostor));
    expect(() => hoistSchemaDefinitions(document)).toThrow(/two different schemas are named Thing/);
  });
});

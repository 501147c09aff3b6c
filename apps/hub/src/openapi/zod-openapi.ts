import { z } from 'zod';

/** OpenAPI 3.0 schema object for a contracts schema, for @ApiBody/@ApiResponse. */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

const INLINE_REF_PREFIX = '#/definitions/';
const COMPONENT_REF_PREFIX = '#/components/schemas/';

type JsonObject = Record<string, unknown>;

/**
 * zod names each schema with an `id` in a `definitions` map beside the schema and points at it with
 * `$ref: '#/definitions/<id>'`. OpenAPI 3 resolves references against the whole document, where only
 * `components.schemas` holds named schemas (OpenAPI 3.0.3 §4.7.24), so those references lead nowhere.
 * This moves every such map into `components.schemas` and rewrites the references to match.
 */
export function hoistSchemaDefinitions(document: { paths: object; components?: { schemas?: object } }): void {
  document.components ??= {};
  document.components.schemas ??= {};
  const schemas = document.components.schemas as JsonObject;
  const hoist = (schema: JsonObject) => {
    const definitions = schema.definitions as JsonObject | undefined;
    delete schema.definitions;
    rewriteRefs(schema);
    for (const [name, definition] of Object.entries(definitions ?? {})) {
      rewriteRefs(definition);
      const existing = schemas[name];
      if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(definition)) {
        throw new Error(`OpenAPI: two different schemas are named ${name}`);
      }
      schemas[name] = definition;
    }
  };
  const findSchemas = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'schema' && value && typeof value === 'object' && !Array.isArray(value)) hoist(value as JsonObject);
      else findSchemas(value);
    }
  };
  findSchemas(document.paths);
}

function rewriteRefs(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  const object = node as JsonObject;
  if (typeof object.$ref === 'string' && object.$ref.startsWith(INLINE_REF_PREFIX)) {
    object.$ref = COMPONENT_REF_PREFIX + object.$ref.slice(INLINE_REF_PREFIX.length);
  }
  for (const value of Object.values(object)) rewriteRefs(value);
}

import { DEVICE_LIMITS, HISTORY_BUCKET_PATTERN, HISTORY_TIME_PATTERN } from '@telehub/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadySchema } from '../src/health/readiness.schemas.js';
import { ADMIN_ROUTES } from './support/api-assertions.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is read as plain JSON
type Json = any;

const PROBLEM = 'application/problem+json';

describe('OpenAPI document and docs UI', () => {
  let hub: TestHub;
  let document: Json;
  beforeAll(async () => {
    hub = await startTestHub();
    document = (await hub.api('GET', '/api/openapi.json', { auth: false })).body;
  });
  afterAll(() => hub?.close());

  /**
   * Follows local `$ref`s the way OpenAPI tools do: as JSON pointers into the whole document; also through an
   * `allOf` of one schema, which is how a reference with a default of its own (`{ default: {}, allOf: [$ref] }`) reads.
   */
  function resolve(schema: Json, seen = 0): Json {
    if (schema?.allOf?.length === 1 && !schema.$ref && !schema.properties) return resolve(schema.allOf[0], seen + 1);
    if (!schema?.$ref) return schema;
    expect(schema.$ref).toMatch(/^#\//);
    const target = (schema.$ref as string)
      .slice(2)
      .split('/')
      .reduce((node: Json, key) => node?.[key.replaceAll('~1', '/').replaceAll('~0', '~')], document);
    expect(target, `unresolvable $ref ${schema.$ref}`).toBeDefined();
    expect(seen).toBeLessThan(10);
    return resolve(target, seen + 1);
  }

  const operation = (method: string, path: string) => document.paths[path]?.[method];
  const bodySchema = (method: string, path: string, type = 'application/json') =>
    resolve(operation(method, path).requestBody.content[type].schema);

  it('is served without a token as OpenAPI 3 JSON', async () => {
    const response = await hub.api('GET', '/api/openapi.json', { auth: false });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(response.body.openapi).toMatch(/^3\./);
    expect(response.body.info.title).toBe('telehub API');
  });

  it('serves the docs UI at /api/docs without a token', async () => {
    const response = await hub.api('GET', '/api/docs', { auth: false });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html\b/);
    expect(response.text).toContain('swagger-ui');
    expect(response.text).toContain('<title>telehub API</title>');
  });

  it('lists the device and token routes with their methods', () => {
    const methods = (path: string) => Object.keys(document.paths[path] ?? {}).sort();
    expect(methods('/api/v1/devices')).toEqual(['get', 'post']);
    expect(methods('/api/v1/devices/bulk')).toEqual(['post']);
    expect(methods('/api/v1/devices/{deviceId}')).toEqual(expect.arrayContaining(['delete', 'get', 'patch']));
    expect(methods('/api/v1/devices/{deviceId}/tokens')).toEqual(['get', 'post']);
    expect(methods('/api/v1/devices/{deviceId}/tokens/{tokenId}')).toEqual(['delete']);
  });

  it('resolves every $ref in the document', () => {
    const refs: string[] = [];
    const walk = (node: Json): void => {
      if (!node || typeof node !== 'object') return;
      if (typeof node.$ref === 'string') refs.push(node.$ref);
      for (const value of Object.values(node)) walk(value);
    };
    walk(document);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of new Set(refs)) expect(resolve({ $ref: ref }), ref).toEqual(expect.any(Object));
  });

  it('describes the create request body, with name required and no extra keys', () => {
    const schema = bodySchema('post', '/api/v1/devices');
    expect(schema.type).toBe('object');
    expect(Object.keys(schema.properties).sort()).toEqual(['labels', 'metadata', 'name']);
    expect(schema.required).toEqual(['name']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.name.maxLength).toBe(DEVICE_LIMITS.nameMaxLength);
    expect(resolve(schema.properties.labels).items.pattern).toEqual(expect.any(String));
  });

  it('describes the bulk body as JSON or CSV, an array of create requests of at most 10,000', () => {
    const content = operation('post', '/api/v1/devices/bulk').requestBody.content;
    expect(Object.keys(content).sort()).toEqual(['application/json', 'text/csv']);
    const schema = bodySchema('post', '/api/v1/devices/bulk');
    expect(schema).toMatchObject({ type: 'array', minItems: 1, maxItems: DEVICE_LIMITS.bulkMaxDevices });
    expect(resolve(schema.items)).toEqual(bodySchema('post', '/api/v1/devices'));
  });

  it('describes the update and token requests', () => {
    const update = bodySchema('patch', '/api/v1/devices/{deviceId}');
    expect(Object.keys(update.properties).sort()).toEqual([
      'disabled',
      'inactivityTimeoutSeconds',
      'labels',
      'metadata',
      'name',
    ]);
    expect(update.required ?? []).toEqual([]);
    const issue = bodySchema('post', '/api/v1/devices/{deviceId}/tokens');
    expect(Object.keys(issue.properties).sort()).toEqual(['expireOthersInSeconds', 'expiresAt']);
    expect(operation('post', '/api/v1/devices/{deviceId}/tokens').requestBody.required).toBe(false);
  });

  it('documents the Problem Details answers of the bulk route: 400, 401 and 413', () => {
    const responses = operation('post', '/api/v1/devices/bulk').responses;
    for (const status of ['400', '401', '413']) {
      const problem = resolve(responses[status]?.content?.[PROBLEM]?.schema);
      expect(problem, `bulk ${status}`).toBeDefined();
      expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'code']));
      expect(Object.keys(problem.properties)).toEqual(expect.arrayContaining(['detail', 'errors', 'instance']));
    }
    expect(resolve(responses['201'].content['application/json'].schema).type).toBe('array');
  });

  it('documents a bearer scheme and the 401 Problem on every /api operation, and 404 where an id is in the path', () => {
    const schemes = document.components.securitySchemes;
    expect(schemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    let operations = 0;
    for (const [path, methods] of Object.entries(document.paths as Record<string, Record<string, Json>>)) {
      if (!path.startsWith('/api/')) continue;
      for (const [method, op] of Object.entries(methods)) {
        operations++;
        expect(op.security, `${method} ${path}`).toHaveLength(1);
        expect(schemes[Object.keys(op.security[0])[0]!], `${method} ${path}`).toMatchObject({ scheme: 'bearer' });
        expect(op.responses['401']?.content?.[PROBLEM], `${method} ${path}`).toBeDefined();
        if (path.includes('{deviceId}')) expect(op.responses['404'], `${method} ${path}`).toBeDefined();
      }
    }
    expect(operations).toBeGreaterThanOrEqual(ADMIN_ROUTES.length);
    for (const route of ADMIN_ROUTES) {
      const [method, path] = route.split(' ') as [string, string];
      expect(operation(method.toLowerCase(), path).security, route).toEqual([{ bearer: [] }]);
    }
  });

  it('documents on every token-checked operation the throttle (429 auth_throttled, Retry-After) and the request timeout (408)', () => {
    let operations = 0;
    for (const [path, methods] of Object.entries(document.paths as Record<string, Record<string, Json>>)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!op.security?.length) continue;
        operations++;
        const route = `${method} ${path}`;
        expect(op.responses['429']?.description, route).toContain('auth_throttled');
        expect(op.responses['429']?.headers?.['Retry-After'], route).toBeDefined();
        expect(resolve(op.responses['429']?.content?.[PROBLEM]?.schema)?.required, route).toContain('code');
        expect(op.responses['408']?.description, route).toContain('TELEHUB_HTTP_REQUEST_TIMEOUT_MS');
        expect(op.responses['408']?.content?.[PROBLEM], route).toBeDefined();
      }
    }
    expect(operations).toBeGreaterThanOrEqual(ADMIN_ROUTES.length + 2);
    // A route's own 429 is kept beside the throttle's.
    const queueFull = operation('post', '/api/v1/devices/{deviceId}/commands').responses['429'].description;
    expect(queueFull).toContain('TELEHUB_COMMAND_MAX_QUEUED');
    expect(queueFull).toContain('auth_throttled');
  });

  it('describes the bearer tokens as opaque tokens (admin and device with their prefixes), never as JWT', async () => {
    const schemes = document.components.securitySchemes;
    expect(Object.keys(schemes).sort()).toEqual(['bearer', 'device', 'metrics']);
    expect(schemes.metrics).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque' });
    expect(schemes.metrics.description).toContain('TELEHUB_METRICS_TOKEN');
    for (const [name, prefix] of [
      ['bearer', 'tha_'],
      ['device', 'thd_'],
    ] as const) {
      expect(schemes[name], name).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque' });
      expect(schemes[name].description, name).toContain(`\`${prefix}\` and 43 base64url characters`);
      expect(schemes[name].description, name).toContain('Not a JWT');
    }
    // Nowhere else either (the YAML form is the same document).
    const yaml = await hub.api('GET', '/api/openapi.yaml', { auth: false });
    expect(yaml.status).toBe(200);
    const everything = `${JSON.stringify(document)}\n${yaml.text}`.replaceAll('Not a JWT', '');
    expect(everything).not.toMatch(/JWT/);
  });

  it('documents the revoke conflict (409) and the list query parameters', () => {
    expect(operation('delete', '/api/v1/devices/{deviceId}/tokens/{tokenId}').responses['409']).toBeDefined();
    const parameters = operation('get', '/api/v1/devices').parameters.map((p: Json) => `${p.in}:${p.name}`);
    expect(parameters.sort()).toEqual([
      'query:cursor',
      'query:label',
      'query:latest',
      'query:limit',
      'query:namePrefix',
      'query:search',
      'query:sort',
      'query:status',
    ]);
  });

  it('documents the 204 of DELETE /api/v1/devices/{deviceId}, without a body', () => {
    const responses = operation('delete', '/api/v1/devices/{deviceId}').responses;
    expect(responses['204']).toBeDefined();
    expect(responses['204'].content).toBeUndefined();
    expect(Object.keys(responses).filter((status) => status.startsWith('2'))).toEqual(['204']);
  });

  it('documents the bulk CSV answer (Accept: text/csv) and CSV body as text beside the JSON ones', () => {
    const bulk = operation('post', '/api/v1/devices/bulk');
    const answer = bulk.responses['201'].content;
    expect(Object.keys(answer).sort()).toEqual(['application/json', 'text/csv']);
    expect(answer['text/csv'].schema).toMatchObject({ type: 'string' });
    expect(resolve(answer['application/json'].schema).items).toEqual({ $ref: '#/components/schemas/DeviceWithToken' });
    expect(bulk.responses['201'].description).toContain('id,name,token');
    expect(bulk.requestBody.content['text/csv'].schema).toMatchObject({ type: 'string' });
    // The telemetry export likewise: CSV text, beside the JSON series.
    const history = operation('get', '/api/v1/devices/{deviceId}/telemetry').responses['200'].content;
    expect(history['text/csv'].schema).toMatchObject({ type: 'string' });
    expect(resolve(history['application/json'].schema).required).toContain('series');
  });

  it('gives every parameter a schema from its contract, with the constraints it is validated with', () => {
    const parameters = Object.entries(document.paths as Record<string, Record<string, Json>>).flatMap(
      ([path, methods]) =>
        Object.entries(methods).flatMap(([method, op]) =>
          (op.parameters ?? []).map((parameter: Json) => ({ where: `${method} ${path} ${parameter.name}`, parameter })),
        ),
    );
    expect(parameters.length).toBeGreaterThan(30);
    for (const { where, parameter } of parameters) expect(Object.keys(parameter.schema ?? {}), where).not.toEqual([]);
    // Path parameters are the ids, validated as UUIDs.
    for (const { where, parameter } of parameters.filter(({ parameter }) => parameter.in === 'path')) {
      expect([parameter.required, parameter.schema.format], where).toEqual([true, 'uuid']);
    }
    const query = (method: string, path: string, name: string) => {
      const parameter = operation(method, path).parameters.find((p: Json) => p.in === 'query' && p.name === name);
      expect(parameter, `${method} ${path} ${name}`).toBeDefined();
      expect(parameter.required, name).toBe(false);
      return parameter.schema;
    };
    const devices = (name: string) => query('get', '/api/v1/devices', name);
    expect(devices('namePrefix')).toMatchObject({
      type: 'string',
      minLength: 1,
      maxLength: DEVICE_LIMITS.nameMaxLength,
    });
    // An opaque cursor since the list sorts by name, last seen or creation: the sort's key and the id.
    expect(devices('cursor')).toMatchObject({ type: 'string', minLength: 1, maxLength: 500 });
    // One label, or the parameter repeated.
    expect(
      devices('label')
        .anyOf.map((schema: Json) => schema.type)
        .sort(),
    ).toEqual(['array', 'string']);
    expect(devices('label').anyOf[0].pattern).toEqual(expect.any(String));
    const commands = (name: string) => query('get', '/api/v1/devices/{deviceId}/commands', name);
    expect(commands('status')).toMatchObject({ type: 'string' });
    expect(commands('cursor')).toMatchObject({ type: 'string', format: 'uuid' });
    expect(query('get', '/api/v1/devices/{deviceId}/events', 'cursor')).toMatchObject({
      type: 'string',
      pattern: '^[1-9][0-9]{0,14}$',
    });
    const history = (name: string) => query('get', '/api/v1/devices/{deviceId}/telemetry', name);
    expect(history('from')).toMatchObject({ type: 'string', pattern: HISTORY_TIME_PATTERN.source, default: '-1h' });
    expect(history('to')).toMatchObject({ type: 'string', pattern: HISTORY_TIME_PATTERN.source, default: 'now' });
    expect(history('bucket')).toMatchObject({ type: 'string', pattern: HISTORY_BUCKET_PATTERN.source });
    expect(
      history('metrics')
        .anyOf.map((schema: Json) => schema.type)
        .sort(),
    ).toEqual(['array', 'string']);
    expect(resolve(history('agg')).enum).toContain('avg');
  });

  it('documents /readyz: 200 when ready, 503 (plain JSON, not a Problem) when the database or migrations are not', async () => {
    const responses = operation('get', '/readyz').responses;
    const ready = resolve(responses['200'].content['application/json'].schema);
    expect(ready.properties.status.enum).toEqual(['ready']);
    expect(ready.required).toEqual(expect.arrayContaining(['status', 'database', 'mode', 'migrations']));
    const notReady = resolve(responses['503']?.content?.['application/json']?.schema);
    expect(notReady, 'readyz 503').toBeDefined();
    const statuses = notReady.anyOf.map((schema: Json) => resolve(schema).properties.status.enum[0]).sort();
    expect(statuses).toEqual(['database_unavailable', 'migrations_pending']);
    expect(JSON.stringify(notReady)).toContain('"timeout"');
    // The schema is what the route answers: nothing more, nothing less.
    const live = await hub.api('GET', '/readyz', { auth: false });
    expect(live.status).toBe(200);
    expect(ReadySchema.parse(live.body)).toEqual(live.body);
  });

  it('documents /metrics: Prometheus text for the metrics token or an admin token, 401 otherwise', async () => {
    const metrics = operation('get', '/metrics');
    expect(metrics, 'GET /metrics').toBeDefined();
    expect(metrics.security).toEqual(expect.arrayContaining([{ metrics: [] }, { bearer: [] }]));
    expect(metrics.security).toHaveLength(2);
    const [type, content] = Object.entries(metrics.responses['200'].content)[0] as [string, Json];
    expect(type).toMatch(/^text\/plain; version=0\.0\.4\b/);
    expect(content.schema).toEqual({ type: 'string' });
    expect(resolve(metrics.responses['401'].content[PROBLEM].schema).required).toContain('code');
    const scrape = await hub.api('GET', '/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toBe(type);
  });
});

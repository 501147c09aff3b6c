import type { OpenAPIObject } from '@nestjs/swagger';
import { describe, expect, it } from 'vitest';
import { documentMediaTypes } from './media-types.js';

const PROBLEM = { schema: { $ref: '#/components/schemas/ProblemDetails' } };
const DEVICES = { schema: { type: 'array', items: { $ref: '#/components/schemas/Device' } } };

function documentWith(operation: object): OpenAPIObject {
  return {
    openapi: '3.0.0',
    info: { title: 't', version: '1' },
    paths: { '/p': { post: operation } },
  } as OpenAPIObject;
}

describe('documentMediaTypes', () => {
  it('files Problem Details answers under application/problem+json only', () => {
    const document = documentWith({
      responses: {
        201: { content: { 'application/json': DEVICES } },
        400: { description: 'bad', content: { 'application/json': PROBLEM, 'text/csv': PROBLEM } },
      },
    });
    documentMediaTypes(document);
    const responses = document.paths['/p']!.post!.responses;
    expect(responses['400']).toEqual({ description: 'bad', content: { 'application/problem+json': PROBLEM } });
    expect(responses['201']).toEqual({ content: { 'application/json': DEVICES } });
  });

  it('leaves an error answer that is not Problem Details as it is (the 503 of /readyz)', () => {
    const notReady = { content: { 'application/json': { schema: { $ref: '#/components/schemas/NotReady' } } } };
    const document = documentWith({ responses: { 503: structuredClone(notReady) } });
    documentMediaTypes(document);
    expect(document.paths['/p']!.post!.responses['503']).toEqual(notReady);
  });

  it('describes CSV bodies and answers as text, keeping the JSON beside them', () => {
    const document = documentWith({
      requestBody: { content: { 'application/json': DEVICES, 'text/csv': DEVICES } },
      responses: { 200: { content: { 'application/json': DEVICES, 'text/csv': DEVICES } } },
    });
    documentMediaTypes(document);
    const operation = document.paths['/p']!.post!;
    const text = { schema: expect.objectContaining({ type: 'string' }) };
    expect(operation.requestBody).toEqual({ content: { 'application/json': DEVICES, 'text/csv': text } });
    expect(operation.responses['200']).toEqual({ content: { 'application/json': DEVICES, 'text/csv': text } });
  });
});

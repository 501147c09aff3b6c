import type { ArgumentMetadata } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError } from './api-error.js';
import { createValidationPipe } from './validation.js';

const Entry = z.object({ name: z.string().min(1), tags: z.array(z.string()).default([]) }).strict();

const pipe = createValidationPipe();
const body = (schema: z.ZodType): ArgumentMetadata => ({ type: 'body', schema });

async function fieldErrors(run: () => Promise<unknown>): Promise<{ field: string; message: string }[]> {
  const error = await run().then(
    () => expect.unreachable('expected a validation error'),
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).code).toBe('validation_failed');
  expect((error as ApiError).status).toBe(400);
  return (error as ApiError).errors ?? [];
}

describe('the validation pipe (StandardSchemaValidationPipe with Problem Details field errors)', () => {
  it('returns the parsed value, defaults applied', async () => {
    expect(await pipe.transform({ name: 'a' }, body(Entry))).toEqual({ name: 'a', tags: [] });
  });

  it('leaves a parameter without a schema alone', async () => {
    const value = { anything: 1 };
    expect(await pipe.transform(value, { type: 'body' })).toBe(value);
  });

  it('names each offending field by its path', async () => {
    const errors = await fieldErrors(() => pipe.transform([{ name: 'ok' }, { tags: [1] }], body(z.array(Entry))));
    expect(errors.map((error) => error.field).sort()).toEqual(['1.name', '1.tags.0']);
    expect(errors.every((error) => error.message.length > 0)).toBe(true);
  });

  it('names every unknown key itself, not the object holding it', async () => {
    const errors = await fieldErrors(() =>
      pipe.transform([{ name: 'a' }, { name: 'b', colour: 'red', size: 2 }], body(z.array(Entry))),
    );
    expect(errors).toEqual([
      { field: '1.colour', message: 'unknown field' },
      { field: '1.size', message: 'unknown field' },
    ]);
    expect(await fieldErrors(() => pipe.transform({ name: 'a', x: 1 }, body(Entry)))).toEqual([
      { field: 'x', message: 'unknown field' },
    ]);
  });

  it('says (body) for an issue with the whole body', async () => {
    expect((await fieldErrors(() => pipe.transform(undefined, body(Entry))))[0]!.field).toBe('(body)');
  });

  it('names a path parameter by its key when the parameters are validated as one object', async () => {
    const params = z.object({ deviceId: z.string().uuid(), commandId: z.string().uuid() });
    const valid = '0b7a5a3e-9d5e-4a43-9a43-2f8f0e6b6c11';
    const metadata: ArgumentMetadata = { type: 'param', schema: params };
    expect(await fieldErrors(() => pipe.transform({ deviceId: valid, commandId: 'x' }, metadata))).toEqual([
      { field: 'commandId', message: expect.stringMatching(/UUID/i) },
    ]);
  });

  it('hands the schema the value as it came: keys named constructor or prototype are data, __proto__ an unknown key', async () => {
    const Device = z.object({ name: z.string(), metadata: z.record(z.string(), z.unknown()) }).strict();
    const metadata = { constructor: 'ACME', prototype: true, parts: [{ constructor: 'Bosch' }] };
    expect(await pipe.transform({ name: 'a', metadata }, body(Device))).toEqual({ name: 'a', metadata });
    const polluted = JSON.parse('{"name": "a", "metadata": {}, "__proto__": {"admin": true}}');
    expect(await fieldErrors(() => pipe.transform(polluted, body(Device)))).toEqual([
      { field: '__proto__', message: 'unknown field' },
    ]);
  });

  it('reads a path given as Standard Schema path segments ({ key })', async () => {
    const schema = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => ({ issues: [{ message: 'bad', path: [{ key: 'items' }, { key: 2 }, 'name'] }] }),
      },
    } as const;
    const errors = await fieldErrors(() => pipe.transform({}, { type: 'body', schema }));
    expect(errors).toEqual([{ field: 'items.2.name', message: 'bad' }]);
  });
});

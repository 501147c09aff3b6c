import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError } from './api-error.js';
import { ZodValidationPipe } from './zod-validation.pipe.js';

const Entry = z.object({ name: z.string().min(1), tags: z.array(z.string()).default([]) }).strict();

function fieldErrors(run: () => unknown): { field: string; message: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('validation_failed');
    return (error as ApiError).errors ?? [];
  }
  throw new Error('expected a validation error');
}

describe('ZodValidationPipe', () => {
  it('returns the parsed value, defaults applied', () => {
    expect(new ZodValidationPipe(Entry).transform({ name: 'a' })).toEqual({ name: 'a', tags: [] });
  });

  it('names each offending field by its path', () => {
    const errors = fieldErrors(() => new ZodValidationPipe(z.array(Entry)).transform([{ name: 'ok' }, { tags: [1] }]));
    expect(errors.map((error) => error.field).sort()).toEqual(['1.name', '1.tags.0']);
  });

  it('names every unknown key itself, not the object holding it', () => {
    const errors = fieldErrors(() =>
      new ZodValidationPipe(z.array(Entry)).transform([{ name: 'a' }, { name: 'b', colour: 'red', size: 2 }]),
    );
    expect(errors).toEqual([
      { field: '1.colour', message: 'unknown field' },
      { field: '1.size', message: 'unknown field' },
    ]);
    expect(fieldErrors(() => new ZodValidationPipe(Entry).transform({ name: 'a', x: 1 }))).toEqual([
      { field: 'x', message: 'unknown field' },
    ]);
  });

  it('prefixes fields with the request part it validates, and says (body) for the root', () => {
    expect(fieldErrors(() => new ZodValidationPipe(z.string().uuid(), 'deviceId').transform('x'))[0]!.field).toBe(
      'deviceId',
    );
    expect(fieldErrors(() => new ZodValidationPipe(Entry).transform(undefined))[0]!.field).toBe('(body)');
  });
});

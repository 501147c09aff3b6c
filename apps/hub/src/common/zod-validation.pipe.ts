import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ApiError, type FieldError } from './api-error.js';

/** Validates one request part (body, query, param) against a schema from @telehub/contracts. */
export class ZodValidationPipe<Schema extends z.ZodType> implements PipeTransform<unknown, z.output<Schema>> {
  constructor(
    private readonly schema: Schema,
    private readonly fieldPrefix = '',
  ) {}

  transform(value: unknown): z.output<Schema> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    throw ApiError.validation(result.error.issues.flatMap((issue) => this.fieldErrors(issue)));
  }

  private fieldErrors(issue: z.core.$ZodIssue): FieldError[] {
    const field = (path: PropertyKey[]) =>
      [this.fieldPrefix, ...path.map(String)].filter(Boolean).join('.') || '(body)';
    // An unknown key is reported on its parent object; name each key, so a client can tell which one to drop.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: field([...issue.path, key]), message: 'unknown field' }));
    }
    return [{ field: field(issue.path), message: issue.message }];
  }
}

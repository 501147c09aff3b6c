import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ApiError } from './api-error.js';

/** Validates one request part (body, query, param) against a schema from @telehub/contracts. */
export class ZodValidationPipe<Schema extends z.ZodType> implements PipeTransform<unknown, z.output<Schema>> {
  constructor(
    private readonly schema: Schema,
    private readonly fieldPrefix = '',
  ) {}

  transform(value: unknown): z.output<Schema> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    throw ApiError.validation(
      result.error.issues.map((issue) => ({
        field: [this.fieldPrefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)',
        message: issue.message,
      })),
    );
  }
}

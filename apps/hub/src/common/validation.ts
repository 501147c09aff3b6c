import { StandardSchemaValidationPipe, type StandardSchemaValidationPipeOptions } from '@nestjs/common';
import { ApiError, type FieldError } from './api-error.js';

type Issue = Parameters<NonNullable<StandardSchemaValidationPipeOptions['exceptionFactory']>>[0][number];

/**
 * Nest's own pipe for `@Body({ schema })`, `@Query({ schema })` and `@Param({ schema })` (the schemas of
 * @telehub/contracts are zod, which implements Standard Schema); a refusal is 400 `validation_failed` with one
 * field error per issue (RFC 9457 Problem Details, see api-error.ts). Path parameters are validated as one object
 * (`@Param({ schema: z.object({ deviceId }) })`), so a bad one is named by its key like a body field.
 */
export function createValidationPipe(): StandardSchemaValidationPipe {
  return new SchemaValidationPipe({ exceptionFactory: (issues) => new SchemaValidationError(issues) });
}

/**
 * A value its schema refused. The pipe is global, so it also checks the admin channel's `@MessageBody({ schema })`
 * (Nest applies global pipes to gateways): the REST filter answers 400 with the field errors, the channel's filter
 * renders the same issues as its own `invalid_message` frame.
 */
export class SchemaValidationError extends ApiError {
  constructor(readonly issues: readonly Issue[]) {
    const validation = ApiError.validation(fieldErrors(issues));
    super(validation.status, validation.code, validation.title, validation.detail, validation.errors);
  }
}

/**
 * The pipe as Nest has it, except that it hands the value to the schema untouched. Nest first deletes every key
 * named `__proto__`, `constructor` or `prototype`, at any depth: a device's metadata `{"constructor": "ACME"}`
 * or a command's `{"prototype": true}` would be dropped without a word, and a stray `__proto__` accepted
 * instead of refused as an unknown field. Nothing here needs it: bodies come from JSON.parse (own keys, no
 * prototype set), and zod builds new objects of the declared keys (never assigning `__proto__`).
 */
class SchemaValidationPipe extends StandardSchemaValidationPipe {
  protected override stripProtoKeys(): void {}
}

/** One field error per issue, named by its path (`3.labels.0`); an issue about the whole value says `(body)`. */
export function fieldErrors(issues: readonly Issue[]): FieldError[] {
  return issues.flatMap((issue) => {
    const path = (issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment));
    const field = (keys: string[]) => keys.join('.') || '(body)';
    // zod reports unknown keys on their parent object; name each key, so a client can tell which one to drop.
    const unknownKeys = unrecognizedKeys(issue);
    if (unknownKeys) return unknownKeys.map((key) => ({ field: field([...path, key]), message: 'unknown field' }));
    return [{ field: field(path), message: issue.message }];
  });
}

function unrecognizedKeys(issue: Issue): string[] | undefined {
  const { code, keys } = issue as Issue & { code?: unknown; keys?: unknown };
  return code === 'unrecognized_keys' && Array.isArray(keys) ? keys.map(String) : undefined;
}

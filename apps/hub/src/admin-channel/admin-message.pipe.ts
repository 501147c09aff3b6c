import { Injectable, StandardSchemaValidationPipe, type StandardSchemaValidationPipeOptions } from '@nestjs/common';
import { AdminMessageRefused } from './admin-channel.errors.js';

/**
 * Nest's StandardSchemaValidationPipe for admin channel messages (`@MessageBody({ schema })` with a schema of
 * libs/contracts), refusing a message as the protocol does: `invalid_message`, each issue as `path: message`.
 */
@Injectable()
export class AdminMessagePipe extends StandardSchemaValidationPipe {
  constructor() {
    super({ exceptionFactory: (issues) => new AdminMessageRefused('invalid_message', describeIssues(issues)) });
  }

  /**
   * The message is validated as the client sent it: the schemas build new objects of the fields they know, and
   * a command's `params` are any JSON, kept whole (a key named `constructor` is a parameter like any other).
   */
  protected override stripProtoKeys(): void {}
}

type Issues = Parameters<NonNullable<StandardSchemaValidationPipeOptions['exceptionFactory']>>[0];

/** A message the global validation pipe refused, as the protocol refuses it (the same text as this pipe's). */
export function invalidMessage(issues: Issues): AdminMessageRefused {
  return new AdminMessageRefused('invalid_message', describeIssues(issues));
}

/** "devices.0: Invalid UUID; maxRate: Too small: …"; an issue about the message itself is `message: …`. */
function describeIssues(issues: Issues): string {
  return issues
    .map((issue) => {
      const path = (issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment));
      return `${path.join('.') || 'message'}: ${issue.message}`;
    })
    .join('; ');
}

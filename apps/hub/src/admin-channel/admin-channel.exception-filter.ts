import { type ArgumentsHost, Catch, type ExceptionFilter, Inject } from '@nestjs/common';
import { ADMIN_CLOSE } from '@telehub/contracts';
import type { Logger } from 'pino';
import { ApiError } from '../common/api-error.js';
import { SchemaValidationError } from '../common/validation.js';
import { LOGGER } from '../logging/logger.token.js';
import { AdminAuthRequired, AdminMessageRefused } from './admin-channel.errors.js';
import { AdminFanoutService } from './admin-fanout.service.js';
import { invalidMessage } from './admin-message.pipe.js';
import { type AdminSocket, AUTHENTICATE_FIRST } from './admin-session.js';

/**
 * Every failure of a channel message becomes the protocol's answer (docs/admin-protocol.md, "Errors and
 * heartbeat"): before authentication the connection is closed with 4401; after, an `error` frame names the
 * message's `id` or `ref`, and the connection stays open. Refusals (AdminMessageRefused, invalid messages
 * included) and the REST API's errors (ApiError: device_not_found, too_many_points, …) carry a stable code meant
 * for the client; anything else is the hub's problem, logged here and not explained to the client.
 */
@Catch()
export class AdminChannelExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly fanout: AdminFanoutService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  catch(thrown: unknown, host: ArgumentsHost): void {
    const exception = thrown instanceof SchemaValidationError ? invalidMessage(thrown.issues) : thrown;
    const context = host.switchToWs();
    const session = this.fanout.sessionOf(context.getClient<AdminSocket>());
    if (!session) return; // closed meanwhile
    if (exception instanceof AdminAuthRequired) {
      session.close(ADMIN_CLOSE.authRequired, AUTHENTICATE_FIRST);
      return;
    }
    const known = exception instanceof AdminMessageRefused || exception instanceof ApiError;
    this.logger[known ? 'debug' : 'warn'](
      { err: exception, type: context.getPattern() },
      'admin channel request failed',
    );
    const id = messageId(context.getData<unknown>());
    if (known) session.refuse(exception.code, exception.message, id);
    else session.refuse('internal_error', 'the hub could not do this; see its log', id);
  }
}

/** The subscription `id` or command `ref` a message names, which its error names too. */
function messageId(message: unknown): string | undefined {
  const fields = message as { id?: unknown; ref?: unknown } | null | undefined;
  const id = fields?.id ?? fields?.ref;
  return typeof id === 'string' ? id : undefined;
}

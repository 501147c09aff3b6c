import { WsException } from '@nestjs/websockets';

/**
 * A message the channel refuses, with the stable code the client sees in its `error` frame; the connection
 * stays open (AdminChannelExceptionFilter).
 */
export class AdminMessageRefused extends WsException {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super({ code, message });
  }
}

/** A message other than `auth` before authentication: the connection is closed with 4401. */
export class AdminAuthRequired extends WsException {
  constructor() {
    super('authenticate first');
  }
}

import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { HubConfig } from '../config/hub-config.js';
import { requestContextFields } from './request-context.js';

/**
 * JSON lines for machines; readable, coloured lines when a person watches a terminal.
 * Credentials are redacted wherever they could appear. A line logged while an HTTP request is handled carries its
 * `reqId` (request-context.ts), whichever service logs it.
 */
export function createLogger(config: HubConfig['log'], destination: NodeJS.WritableStream = process.stdout): Logger {
  const options = {
    level: config.level,
    base: { service: 'telehub' },
    mixin: requestContextFields,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'password', 'token', '*.password', '*.token'],
      censor: '[redacted]',
    },
  };
  const usePretty = config.format === 'pretty' || (config.format === 'auto' && Boolean(process.stdout.isTTY));
  if (usePretty) {
    return pino(
      options,
      pretty({ sync: true, destination, ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l' }),
    );
  }
  return pino(options, destination === process.stdout ? pino.destination({ dest: 1, sync: false }) : destination);
}

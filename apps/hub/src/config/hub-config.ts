import { resolve } from 'node:path';
import { ConfigSchema } from './config.schema.js';

/** The hub's validated settings, grouped by concern. The only thing in the app that read process.env. */
export interface HubConfig {
  http: { host: string; port: number; maxRequestBytes: number };
  mqtt: { port: number };
  database: { url: string | undefined; poolSize: number; embeddedPort: number };
  dataDir: string;
  retentionDays: number;
  log: { level: string; format: 'auto' | 'json' | 'pretty' };
  adminToken: string | undefined;
  auth: { cacheTtlMs: number };
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const SECRET_VARIABLES = new Set(['DATABASE_URL', 'TELEHUB_ADMIN_TOKEN']);

export const HUB_CONFIG = Symbol('HUB_CONFIG');

/** Validates the environment; a bad value throws a ConfigError naming each variable and what is wrong. */
export function loadConfig(env: Record<string, string | undefined> = process.env): HubConfig {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? '?');
        // Secrets are named but never echoed: this message ends up in terminals and log collectors.
        const shown = SECRET_VARIABLES.has(variable) ? '' : `=${JSON.stringify(env[variable] ?? '')}`;
        return `${variable}${shown}: ${issue.message}`;
      }),
    );
  }
  const c = parsed.data;
  return {
    http: { host: c.TELEHUB_HTTP_HOST, port: c.TELEHUB_HTTP_PORT, maxRequestBytes: c.TELEHUB_MAX_REQUEST_BYTES },
    mqtt: { port: c.TELEHUB_MQTT_PORT },
    database: { url: c.DATABASE_URL, poolSize: c.TELEHUB_DB_POOL_SIZE, embeddedPort: c.TELEHUB_EMBEDDED_PG_PORT },
    dataDir: resolve(c.TELEHUB_DATA_DIR),
    retentionDays: c.TELEHUB_RETENTION_DAYS,
    log: { level: c.TELEHUB_LOG_LEVEL, format: c.TELEHUB_LOG_FORMAT },
    adminToken: c.TELEHUB_ADMIN_TOKEN,
    auth: { cacheTtlMs: c.TELEHUB_AUTH_CACHE_TTL_MS },
    shutdownTimeoutMs: c.TELEHUB_SHUTDOWN_TIMEOUT_MS,
  };
}

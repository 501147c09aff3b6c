import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import pino from 'pino';
import type { TerminalOutput } from '../../src/admin-auth/admin-token-bootstrap.service.js';
import { generateToken } from '../../src/auth/token-codec.js';
import { loadConfig } from '../../src/config/hub-config.js';
import { createHub, type Hub } from '../../src/create-hub.js';
import { createLogger } from '../../src/logging/create-logger.js';

export interface TestHub {
  readonly hub: Hub;
  readonly baseUrl: string;
  readonly mqttUrl: string;
  readonly mqttWsUrl: string;
  /** The TELEHUB_ADMIN_TOKEN the hub was started with; undefined with `withoutAdminToken`. */
  readonly adminToken: string | undefined;
  readonly database: TestDatabase;
  readonly dataDir: string;
  /** JSON request with the admin token (unless `auth: false` or another Authorization header is given). */
  api(method: string, path: string, options?: ApiRequestOptions): Promise<ApiResponse>;
  close(): Promise<void>;
}

export interface ApiRequestOptions {
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  auth?: boolean;
}

export interface TestHubOptions {
  /** Start without TELEHUB_ADMIN_TOKEN: the hub makes one on first start (printed only to a `terminal`). */
  withoutAdminToken?: boolean;
  /**
   * This TELEHUB_ADMIN_TOKEN instead of a new one: hubs sharing a database must share it, as in a real
   * deployment (a hub that starts with another value revokes the previous one).
   */
  adminToken?: string;
  /** What the hub takes for its stdout: the first admin token is printed there when `isTTY` (default: not a terminal). */
  terminal?: TerminalOutput;
  /** Use this database instead of a fresh clone (to restart a hub on the same data); the caller drops it. */
  database?: TestDatabase;
  /** Use this data directory instead of a fresh one; the caller removes it. */
  dataDir?: string;
  /**
   * Log through the hub's own logger (createLogger, with its redaction) into this stream, at
   * TELEHUB_LOG_LEVEL and TELEHUB_LOG_FORMAT from `env`.
   */
  logDestination?: NodeJS.WritableStream;
  /** The hub serves HTTPS (a TLS certificate is configured in `env`). */
  https?: boolean;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
  body: any;
  text: string;
}

/**
 * The real hub (Nest app, HTTP server, database pool) in this process, on ephemeral ports, with its own
 * database cloned from the migrated template. Set TELEHUB_TEST_LOG_LEVEL=debug to see its logs.
 */
export async function startTestHub(env: Record<string, string> = {}, options: TestHubOptions = {}): Promise<TestHub> {
  const database = options.database ?? (await createTestDatabase());
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'telehub-hub-')));
  const adminToken = options.withoutAdminToken ? undefined : (options.adminToken ?? generateToken('admin').token);
  const config = loadConfig({
    DATABASE_URL: database.url,
    TELEHUB_HTTP_HOST: '127.0.0.1',
    TELEHUB_HTTP_PORT: '0',
    TELEHUB_MQTT_PORT: '0',
    TELEHUB_DATA_DIR: dataDir,
    TELEHUB_DB_POOL_SIZE: '4',
    ...(adminToken ? { TELEHUB_ADMIN_TOKEN: adminToken } : {}),
    ...env,
  });
  const logger = options.logDestination
    ? createLogger(config.log, options.logDestination)
    : pino({ level: process.env.TELEHUB_TEST_LOG_LEVEL ?? 'silent' });
  let hub: Hub;
  try {
    hub = await createHub(config, logger, { terminal: options.terminal ?? { isTTY: false, write: () => undefined } });
  } catch (error) {
    if (!options.database) await database.drop();
    if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const baseUrl = `${options.https ? 'https' : 'http'}://127.0.0.1:${hub.httpPort}`;
  return {
    hub,
    baseUrl,
    mqttUrl: `mqtt://127.0.0.1:${hub.mqttPort}`,
    mqttWsUrl: `ws://127.0.0.1:${hub.httpPort}/mqtt`,
    adminToken,
    database,
    dataDir,
    api: async (method, path, request = {}) => {
      const headers: Record<string, string> = { ...request.headers };
      if (request.auth !== false && adminToken && !headers.Authorization)
        headers.Authorization = `Bearer ${adminToken}`;
      let body: string | undefined = request.rawBody;
      if (request.body !== undefined) {
        body = JSON.stringify(request.body);
        headers['Content-Type'] ??= 'application/json';
      }
      const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
    close: async () => {
      await hub.close();
      if (!options.database) await database.drop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

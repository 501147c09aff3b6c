import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import pino from 'pino';
import { generateToken } from '../../src/auth/token-codec.js';
import { loadConfig } from '../../src/config/hub-config.js';
import { createHub, type Hub } from '../../src/create-hub.js';

export interface TestHub {
  readonly hub: Hub;
  readonly baseUrl: string;
  readonly adminToken: string;
  readonly database: TestDatabase;
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
export async function startTestHub(env: Record<string, string> = {}): Promise<TestHub> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'telehub-hub-'));
  const adminToken = generateToken('admin').token;
  const config = loadConfig({
    DATABASE_URL: database.url,
    TELEHUB_HTTP_HOST: '127.0.0.1',
    TELEHUB_HTTP_PORT: '0',
    TELEHUB_MQTT_PORT: '0',
    TELEHUB_DATA_DIR: dataDir,
    TELEHUB_ADMIN_TOKEN: adminToken,
    TELEHUB_DB_POOL_SIZE: '4',
    ...env,
  });
  const logger = pino({ level: process.env.TELEHUB_TEST_LOG_LEVEL ?? 'silent' });
  const hub = await createHub(config, logger, { printAdminToken: () => undefined });
  const baseUrl = `http://127.0.0.1:${hub.httpPort}`;
  return {
    hub,
    baseUrl,
    adminToken,
    database,
    api: async (method, path, options = {}) => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.auth !== false && !headers.Authorization) headers.Authorization = `Bearer ${adminToken}`;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
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
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

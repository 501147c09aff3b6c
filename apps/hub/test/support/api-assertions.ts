import { createHash } from 'node:crypto';
import type { DeviceWithToken } from '@telehub/contracts';
import { expect } from 'vitest';
import type { ApiResponse, TestHub } from './test-hub.js';

export const DEVICES = '/api/v1/devices';
export const DEVICE_TOKEN = /^thd_[A-Za-z0-9_-]{43}$/;
export const ADMIN_TOKEN = /^tha_[A-Za-z0-9_-]{43}$/;
/** Any device or admin token anywhere in a text. */
export const ANY_TOKEN = /th[da]_[A-Za-z0-9_-]{43}/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The admin API's routes, as the OpenAPI document names them; each needs an admin token (admin-roles.e2e.spec.ts: which role). */
export const ADMIN_ROUTES = [
  'GET /api/v1/devices',
  'POST /api/v1/devices',
  'POST /api/v1/devices/bulk',
  'GET /api/v1/devices/{deviceId}',
  'PATCH /api/v1/devices/{deviceId}',
  'DELETE /api/v1/devices/{deviceId}',
  'GET /api/v1/devices/{deviceId}/tokens',
  'POST /api/v1/devices/{deviceId}/tokens',
  'DELETE /api/v1/devices/{deviceId}/tokens/{tokenId}',
  'GET /api/v1/devices/{deviceId}/commands',
  'POST /api/v1/devices/{deviceId}/commands',
  'GET /api/v1/devices/{deviceId}/commands/{commandId}',
  'POST /api/v1/devices/{deviceId}/commands/{commandId}/cancel',
  'GET /api/v1/devices/{deviceId}/telemetry',
  'GET /api/v1/fleet/summary',
  'GET /api/v1/admin-tokens',
  'POST /api/v1/admin-tokens',
  'GET /api/v1/admin-tokens/me',
  'DELETE /api/v1/admin-tokens/{tokenId}',
];
/** A well-formed UUID that no device or token has (ids are version 7; this is version 4). */
export const UNKNOWN_ID = '3f1d9c2e-8b7a-4c6d-9e5f-0a1b2c3d4e5f';

/** Asserts an RFC 9457 Problem Details answer with this status and stable code, and returns it. */
export function expectProblem(response: ApiResponse, status: number, code: string) {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
  expect(response.body).toMatchObject({
    status,
    title: expect.any(String),
    type: expect.stringContaining('/problems/'),
  });
  return response.body;
}

/** A 400 validation problem; returns the fields its errors name (sorted, each once) after checking each has a message. */
export function validationFields(response: ApiResponse): string[] {
  const problem = expectProblem(response, 400, 'validation_failed');
  expect(problem.errors.length).toBeGreaterThan(0);
  for (const error of problem.errors) expect(error.message).toEqual(expect.stringMatching(/\S/));
  return [...new Set<string>(problem.errors.map((error: { field: string }) => error.field))].sort();
}

export async function createDevice(hub: TestHub, body: Record<string, unknown>): Promise<DeviceWithToken> {
  const response = await hub.api('POST', DEVICES, { body });
  expect(response.status, response.text).toBe(201);
  return response.body;
}

export async function countRows(hub: TestHub, table: 'devices' | 'device_tokens' | 'telemetry'): Promise<number> {
  const [row] = await hub.database.client.sql<
    { count: number }[]
  >`SELECT count(*)::int AS count FROM ${hub.database.client.sql(table)}`;
  return row!.count;
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

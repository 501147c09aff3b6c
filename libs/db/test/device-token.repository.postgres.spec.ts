import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceTokenRepository } from '../src/repositories/device-token.repository.js';

describe('DeviceTokenRepository against PostgreSQL', () => {
  let database: TestDatabase;
  let tokens: DeviceTokenRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    tokens = new DeviceTokenRepository(database.client.db);
  });
  afterAll(() => database?.drop());

  it('answers token hashes that hold no larger buffer alive: the auth cache keeps one per connected device', async () => {
    const [device] = await database.client.sql<{ id: string }[]>`
      INSERT INTO devices (id, name) VALUES (gen_random_uuid(), 'token-hash') RETURNING id`;
    const hashes = [randomBytes(32), randomBytes(32)];
    for (const hash of hashes) await tokens.create(device!.id, hash, 'hint', null);
    const credentials = await tokens.findCredentialsByHashes(hashes);
    expect(credentials).toHaveLength(2);
    for (const credential of credentials) {
      expect(hashes.some((hash) => hash.equals(credential.tokenHash))).toBe(true);
      // A slice of the driver's read buffer or of Node's 8 KiB Buffer pool would keep all of it alive.
      expect(credential.tokenHash.buffer.byteLength).toBe(32);
    }
  });
});

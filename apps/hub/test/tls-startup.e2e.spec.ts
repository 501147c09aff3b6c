import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from './support/certificates.js';
import { runFailingHubProcess, startHubProcess } from './support/hub-process.js';

/** A file in a fresh directory with these contents. */
function fileWith(name: string, contents: string | Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'telehub-tls-bad-')), name);
  writeFileSync(path, contents);
  return path;
}

/** The built hub must refuse this environment: exit 1 with one readable message, no stack trace, no listener. */
async function expectRefusedStart(database: TestDatabase, env: Record<string, string>): Promise<string> {
  const { code, stdout, stderr } = await runFailingHubProcess(database.url, env);
  const output = `${stdout}\n${stderr}`;
  expect({ code, output }).toMatchObject({
    code: 1,
    output: expect.stringContaining('telehub: invalid configuration'),
  });
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stdout).not.toContain('listening on');
  return stderr;
}

/** GET over HTTPS, accepting the self-signed certificate. */
function httpsStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { rejectUnauthorized: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('start-up with TLS settings (the built hub as a child process)', { timeout: 60_000 }, () => {
  let database: TestDatabase;
  let pair: { cert: string; key: string };
  beforeAll(async () => {
    database = await createTestDatabase();
    pair = selfSignedCertificate();
  });
  afterAll(() => database?.drop());

  it('refuses TELEHUB_TLS_CERT_FILE without TELEHUB_TLS_KEY_FILE', async () => {
    const stderr = await expectRefusedStart(database, { TELEHUB_TLS_CERT_FILE: pair.cert });
    expect(stderr).toContain('TELEHUB_TLS_CERT_FILE is set but TELEHUB_TLS_KEY_FILE is not');
  });

  it('refuses TELEHUB_TLS_KEY_FILE without TELEHUB_TLS_CERT_FILE', async () => {
    const stderr = await expectRefusedStart(database, { TELEHUB_TLS_KEY_FILE: pair.key });
    expect(stderr).toContain('TELEHUB_TLS_KEY_FILE is set but TELEHUB_TLS_CERT_FILE is not');
  });

  it('refuses TELEHUB_PLAIN_LISTENERS=false without TLS (it would have no MQTT listener)', async () => {
    const stderr = await expectRefusedStart(database, { TELEHUB_PLAIN_LISTENERS: 'false' });
    expect(stderr).toMatch(/TELEHUB_PLAIN_LISTENERS=false .*TELEHUB_TLS_CERT_FILE and TELEHUB_TLS_KEY_FILE/);
    expect(stderr).toContain('no MQTT listener');
  });

  it('names the variable and the path of a missing certificate file', async () => {
    const missing = join(tmpdir(), 'telehub-no-such-dir', 'cert.pem');
    const stderr = await expectRefusedStart(database, {
      TELEHUB_TLS_CERT_FILE: missing,
      TELEHUB_TLS_KEY_FILE: pair.key,
    });
    expect(stderr).toContain(`TELEHUB_TLS_CERT_FILE="${missing}": cannot be read (no such file)`);
    expect(stderr).not.toContain('ENOENT');
  });

  it('names the variable and the path of a key "file" that is a directory', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'telehub-key-dir-'));
    const stderr = await expectRefusedStart(database, {
      TELEHUB_TLS_CERT_FILE: pair.cert,
      TELEHUB_TLS_KEY_FILE: directory,
    });
    expect(stderr).toContain(`TELEHUB_TLS_KEY_FILE="${directory}": cannot be read (is a directory, not a file)`);
  });

  it('says the certificate and the key are swapped', async () => {
    const stderr = await expectRefusedStart(database, {
      TELEHUB_TLS_CERT_FILE: pair.key,
      TELEHUB_TLS_KEY_FILE: pair.cert,
    });
    expect(stderr).toContain(
      `TELEHUB_TLS_CERT_FILE="${pair.key}" holds a private key and TELEHUB_TLS_KEY_FILE="${pair.cert}" a certificate: the two are swapped`,
    );
  });

  it('says a certificate file holds no certificate', async () => {
    const notPem = fileWith('cert.pem', 'this is not a certificate\n');
    const stderr = await expectRefusedStart(database, {
      TELEHUB_TLS_CERT_FILE: notPem,
      TELEHUB_TLS_KEY_FILE: pair.key,
    });
    expect(stderr).toContain(`TELEHUB_TLS_CERT_FILE="${notPem}" does not hold a PEM certificate`);
  });

  it('says a key file holds a certificate instead of the key', async () => {
    const certAsKey = fileWith('key.pem', readFileSync(pair.cert));
    const stderr = await expectRefusedStart(database, {
      TELEHUB_TLS_CERT_FILE: pair.cert,
      TELEHUB_TLS_KEY_FILE: certAsKey,
    });
    expect(stderr).toContain(
      `TELEHUB_TLS_KEY_FILE="${certAsKey}" does not hold an unencrypted PEM private key (it holds a certificate)`,
    );
  });

  it('says the key does not match the certificate', async () => {
    const other = selfSignedCertificate();
    const stderr = await expectRefusedStart(database, {
      TELEHUB_TLS_CERT_FILE: pair.cert,
      TELEHUB_TLS_KEY_FILE: other.key,
    });
    expect(stderr).toContain(
      `TELEHUB_TLS_KEY_FILE="${other.key}" does not match the certificate in TELEHUB_TLS_CERT_FILE="${pair.cert}"`,
    );
  });

  it('with TLS on, logs https://, wss:// and mqtts:// URLs and no plain ones, and each answers over TLS', async () => {
    const proc = await startHubProcess(database.url, {
      TELEHUB_TLS_CERT_FILE: pair.cert,
      TELEHUB_TLS_KEY_FILE: pair.key,
      TELEHUB_MQTT_TLS_PORT: '0',
      TELEHUB_PLAIN_LISTENERS: 'false',
    });
    try {
      const messages = proc.logs
        .filter((line) => line.startsWith('{'))
        .map((line) => (JSON.parse(line) as { msg: string }).msg)
        .join('\n');
      const port = proc.httpPort;
      expect(messages).toContain(`HTTP API listening on https://localhost:${port}`);
      expect(messages).toContain(`wss://localhost:${port}/v1/devices/ws`);
      expect(messages).toContain(`wss://localhost:${port}/mqtt`);
      const mqtts = messages.match(/MQTT over TLS listening on mqtts:\/\/localhost:(\d+)/);
      expect(mqtts, messages).not.toBeNull();
      expect(messages).not.toMatch(/\b(http|ws|mqtt):\/\//);
      expect(proc.mqttPort).toBeUndefined();

      expect(await httpsStatus(`https://127.0.0.1:${port}/readyz`)).toBe(200);
      const protocol = await new Promise<string | null>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: Number(mqtts![1]), rejectUnauthorized: false }, () => {
          resolve(socket.getProtocol());
          socket.end();
        }).on('error', reject);
      });
      expect(protocol).toMatch(/^TLSv1\.[23]$/);
    } finally {
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    }
  });
});

import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

const CERT_VARIABLE = 'TELEHUB_TLS_CERT_FILE';
const KEY_VARIABLE = 'TELEHUB_TLS_KEY_FILE';
const BOTH = `${CERT_VARIABLE} and ${KEY_VARIABLE}`;

/** The certificate and key, read and checked once at start; the HTTPS server and the MQTT/TLS listener use these bytes. */
export interface TlsSettings {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

export interface TlsEnvironment {
  certFile: string | undefined;
  keyFile: string | undefined;
  plainListeners: boolean;
}

/**
 * Turns the TLS variables into settings, or into problems that name the variables: a half-configured TLS
 * must stop the start, not fall back to plain listeners, and a bad file must say which variable points at
 * it and what is wrong with it instead of ending in an ENOENT or an OpenSSL stack trace.
 */
export function loadTlsSettings(env: TlsEnvironment): { tls: TlsSettings | undefined; problems: string[] } {
  const problems: string[] = [];
  const { certFile, keyFile } = env;
  if (certFile && !keyFile) problems.push(`${CERT_VARIABLE} is set but ${KEY_VARIABLE} is not: TLS needs both`);
  if (keyFile && !certFile) problems.push(`${KEY_VARIABLE} is set but ${CERT_VARIABLE} is not: TLS needs both`);
  if (!env.plainListeners && !(certFile && keyFile)) {
    problems.push(
      `TELEHUB_PLAIN_LISTENERS=false turns plain MQTT off, but TLS is not configured (set ${BOTH}): the hub would have no MQTT listener`,
    );
  }
  if (problems.length > 0 || !certFile || !keyFile) return { tls: undefined, problems };

  const cert = readSetting(CERT_VARIABLE, certFile, problems);
  const key = readSetting(KEY_VARIABLE, keyFile, problems);
  if (!cert || !key) return { tls: undefined, problems };
  problems.push(...checkPair(certFile, cert, keyFile, key));
  return problems.length > 0 ? { tls: undefined, problems } : { tls: { certFile, keyFile, cert, key }, problems };
}

function readSetting(variable: string, path: string, problems: string[]): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a file' : message;
    problems.push(`${variable}=${JSON.stringify(path)}: cannot be read (${why})`);
    return undefined;
  }
}

/** The certificate file must hold a certificate, the key file its private key; say which it is when they do not. */
function checkPair(certFile: string, certPem: Buffer, keyFile: string, keyPem: Buffer): string[] {
  const certificate = parse(() => new X509Certificate(certPem));
  const privateKey = parse<KeyObject>(() => createPrivateKey(keyPem));
  const certHoldsKey = !certificate.ok && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(certPem.toString('latin1'));
  const keyHoldsCert = !privateKey.ok && keyPem.toString('latin1').includes('-----BEGIN CERTIFICATE-----');
  if (certHoldsKey && keyHoldsCert) {
    return [
      `${CERT_VARIABLE}=${JSON.stringify(certFile)} holds a private key and ${KEY_VARIABLE}=${JSON.stringify(keyFile)} a certificate: the two are swapped`,
    ];
  }
  const problems: string[] = [];
  if (!certificate.ok) {
    problems.push(
      `${CERT_VARIABLE}=${JSON.stringify(certFile)} does not hold a PEM certificate (${certHoldsKey ? 'it holds a private key' : certificate.reason})`,
    );
  }
  if (!privateKey.ok) {
    problems.push(
      `${KEY_VARIABLE}=${JSON.stringify(keyFile)} does not hold an unencrypted PEM private key (${keyHoldsCert ? 'it holds a certificate' : privateKey.reason})`,
    );
  }
  if (!certificate.ok || !privateKey.ok) return problems;
  if (!certificate.value.checkPrivateKey(privateKey.value)) {
    return [
      `${KEY_VARIABLE}=${JSON.stringify(keyFile)} does not match the certificate in ${CERT_VARIABLE}=${JSON.stringify(certFile)}`,
    ];
  }
  // What the servers will do with them; anything OpenSSL still refuses is named here rather than at listen time.
  const context = parse(() => createSecureContext({ cert: certPem, key: keyPem }));
  return context.ok ? [] : [`${BOTH} cannot be used for TLS (${context.reason})`];
}

function parse<T>(make: () => T): { ok: true; value: T } | { ok: false; reason: string } {
  try {
    return { ok: true, value: make() };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

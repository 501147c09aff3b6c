import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './hub-config.js';

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(8080);
    expect(config.mqtt.port).toBe(1883);
    expect(config.database.url).toBeUndefined();
    expect(config.dataDir).toMatch(/\.telehub$/);
    expect(config.retention).toEqual({ rawDays: 30, minuteDays: 90, hourDays: 730 });
    expect(config.log.level).toBe('info');
  });

  it('names the variable and the problem for a bad value', () => {
    expect(() => loadConfig({ TELEHUB_HTTP_PORT: 'eighty' })).toThrowError(/TELEHUB_HTTP_PORT="eighty": .*number/);
    try {
      loadConfig({ TELEHUB_HTTP_PORT: '70000', DATABASE_URL: 'mysql://x', TELEHUB_LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/TELEHUB_HTTP_PORT="70000"/);
      expect(problems).toMatch(/DATABASE_URL: must be a postgres/);
      expect(problems).toMatch(/TELEHUB_LOG_LEVEL="loud"/);
      expect(problems).not.toMatch(/mysql/);
    }
  });

  it('MQTT sessions: kept 2 hours at most by default, 0 keeps none, and the limits are bounded', () => {
    expect(loadConfig({}).mqtt).toMatchObject({
      sessionExpiryMaxSeconds: 7_200,
      maxSubscriptions: 16,
      sessionSweepIntervalMs: 60_000,
    });
    expect(loadConfig({ TELEHUB_MQTT_SESSION_EXPIRY_S: '0' }).mqtt.sessionExpiryMaxSeconds).toBe(0);
    // The expiry is stored as a PostgreSQL integer.
    expect(() => loadConfig({ TELEHUB_MQTT_SESSION_EXPIRY_S: '4294967295' })).toThrowError(
      /TELEHUB_MQTT_SESSION_EXPIRY_S="4294967295"/,
    );
    expect(() => loadConfig({ TELEHUB_MQTT_MAX_SUBSCRIPTIONS: '0' })).toThrowError(
      /TELEHUB_MQTT_MAX_SUBSCRIPTIONS="0"/,
    );
  });

  it('keeps each coarser tier at least as long as the finer one', () => {
    expect(loadConfig({ TELEHUB_RETENTION_DAYS: '0' }).retention).toEqual({ rawDays: 0, minuteDays: 0, hourDays: 0 });
    expect(loadConfig({ TELEHUB_RETENTION_DAYS: '120' }).retention).toEqual({
      rawDays: 120,
      minuteDays: 120,
      hourDays: 730,
    });
    expect(loadConfig({ TELEHUB_RETENTION_1M_DAYS: '0', TELEHUB_RETENTION_DAYS: '7' }).retention).toEqual({
      rawDays: 7,
      minuteDays: 0,
      hourDays: 0,
    });
    expect(() => loadConfig({ TELEHUB_RETENTION_DAYS: '30', TELEHUB_RETENTION_1M_DAYS: '7' })).toThrowError(
      /TELEHUB_RETENTION_1M_DAYS=7: the 1-minute tier must keep at least as long as raw rows/,
    );
    expect(() => loadConfig({ TELEHUB_RETENTION_1M_DAYS: '0', TELEHUB_RETENTION_1H_DAYS: '3650' })).toThrowError(
      /TELEHUB_RETENTION_1H_DAYS=3650: the 1-hour tier must keep at least as long as the 1-minute tier \(forever\)/,
    );
  });

  it('treats an empty DATABASE_URL as unset and rejects a short admin token', () => {
    expect(loadConfig({ DATABASE_URL: '' }).database.url).toBeUndefined();
    expect(() => loadConfig({ TELEHUB_ADMIN_TOKEN: 'short' })).toThrowError(/TELEHUB_ADMIN_TOKEN: must be at least 32/);
  });

  it('reads TELEHUB_ADMIN_ORIGINS as a list of origins, and refuses anything else naming the variable', () => {
    expect(loadConfig({}).adminChannel.allowedOrigins).toEqual([]);
    expect(
      loadConfig({ TELEHUB_ADMIN_ORIGINS: 'https://Dash.example.com:443, http://a.example:8080' }).adminChannel
        .allowedOrigins,
    ).toEqual(['https://dash.example.com', 'http://a.example:8080']);
    for (const bad of ['https://dash.example.com/app', 'dash.example.com', 'ftp://dash.example.com', '*']) {
      expect(() => loadConfig({ TELEHUB_ADMIN_ORIGINS: bad }), bad).toThrowError(
        /TELEHUB_ADMIN_ORIGINS=.*not an origin/,
      );
    }
  });

  it('keeps the HTTP header timeout within the request timeout (Node refuses it otherwise)', () => {
    const config = loadConfig({ TELEHUB_HTTP_HEADERS_TIMEOUT_MS: '60000', TELEHUB_HTTP_REQUEST_TIMEOUT_MS: '20000' });
    expect(config.http.headersTimeoutMs).toBe(20_000);
    expect(loadConfig({}).http).toMatchObject({
      maxRequestBytes: 1024 * 1024,
      bulkMaxRequestBytes: 16 * 1024 * 1024,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
    });
  });

  it('requires a token for /metrics by default, on the HTTP port', () => {
    expect(loadConfig({}).metrics).toEqual({
      auth: 'token',
      token: undefined,
      port: undefined,
      host: '127.0.0.1',
      maxConnections: 8,
      timeoutMs: 10_000,
    });
    expect(loadConfig({ TELEHUB_METRICS_PORT: '' }).metrics.port).toBeUndefined();
    expect(loadConfig({ TELEHUB_METRICS_PORT: '9464', TELEHUB_METRICS_AUTH: 'none' }).metrics).toMatchObject({
      port: 9464,
      auth: 'none',
    });
  });

  it('refuses metrics settings that are wrong or contradict each other, never echoing the token', () => {
    expect(() => loadConfig({ TELEHUB_METRICS_AUTH: 'basic' })).toThrowError(/TELEHUB_METRICS_AUTH="basic"/);
    expect(() => loadConfig({ TELEHUB_METRICS_PORT: 'x' })).toThrowError(/TELEHUB_METRICS_PORT="x"/);
  });

  it('reads the lease settings, and refuses a lease that does not outlast three renewals', () => {
    expect(loadConfig({}).cluster).toEqual({ leaseRenewMs: 2000, leaseTtlMs: 10_000 });
    expect(loadConfig({ TELEHUB_NODE_LEASE_RENEW_MS: '500', TELEHUB_NODE_LEASE_TTL_MS: '1500' }).cluster).toEqual({
      leaseRenewMs: 500,
      leaseTtlMs: 1500,
    });
    expect(() => loadConfig({ TELEHUB_NODE_LEASE_RENEW_MS: '5000' })).toThrowError(
      /TELEHUB_NODE_LEASE_TTL_MS=10000: must be at least 3 × TELEHUB_NODE_LEASE_RENEW_MS \(15000\)/,
    );
    expect(() => loadConfig({ TELEHUB_NODE_LEASE_RENEW_MS: '50' })).toThrowError(/TELEHUB_NODE_LEASE_RENEW_MS="50"/);
    expect(() => loadConfig({ TELEHUB_METRICS_TOKEN: 'short-secret' })).toThrowError(
      /TELEHUB_METRICS_TOKEN: must be at least 32/,
    );
    expect(() => loadConfig({ TELEHUB_METRICS_TOKEN: 'short-secret' })).not.toThrowError(/short-secret/);
    const token = 'a-metrics-token-of-at-least-32-characters';
    expect(() => loadConfig({ TELEHUB_METRICS_TOKEN: token, TELEHUB_METRICS_AUTH: 'none' })).toThrowError(
      /TELEHUB_METRICS_TOKEN is set but TELEHUB_METRICS_AUTH="none"/,
    );
    expect(() => loadConfig({ TELEHUB_METRICS_TOKEN: token, TELEHUB_METRICS_AUTH: 'none' })).not.toThrowError(token);
    expect(() => loadConfig({ TELEHUB_METRICS_PORT: '8080' })).toThrowError(/TELEHUB_METRICS_PORT=8080: the HTTP port/);
  });
});

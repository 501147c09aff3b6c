import type { AdminPresenceMessage, Device, DeviceSession } from '@telehub/contracts';
import { describe, expect, it } from 'vitest';
import { withPresence } from './presence-cache.js';

const offline: Device = {
  id: '0196a3c1-0000-7000-8000-0000000000aa',
  name: 'pump',
  labels: [],
  metadata: {},
  disabled: false,
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  lastSeenAt: '2025-01-01T00:10:00.000Z',
  online: false,
  active: false,
  status: 'offline',
  inactivityTimeoutSeconds: null,
  transport: 'mqtt',
  connectedAt: '2025-01-01T00:00:00.000Z',
  disconnectedAt: '2025-01-01T00:10:00.000Z',
  disconnectReason: 'keepalive_timeout',
};

const presence = (online: boolean, at: string): AdminPresenceMessage => ({
  type: 'presence',
  deviceId: offline.id,
  online,
  transport: 'ws',
  at: Date.parse(at),
});

describe('withPresence', () => {
  it('moves the device on when the presence change is newer than what REST knew', () => {
    const device = withPresence(offline, { session: presence(true, '2025-01-01T00:11:00.000Z') });
    expect(device).toMatchObject({
      online: true,
      status: 'connected',
      transport: 'ws',
      connectedAt: '2025-01-01T00:11:00.000Z',
      lastSeenAt: '2025-01-01T00:11:00.000Z',
    });
  });

  it('keeps what REST says when it is newer (the change was already written)', () => {
    expect(withPresence(offline, { session: presence(true, '2025-01-01T00:05:00.000Z') })).toBe(offline);
  });

  it('keeps the reason of a disconnect', () => {
    const online = { ...offline, online: true, disconnectedAt: null, disconnectReason: null };
    const change = { ...presence(false, '2025-01-01T00:12:00.000Z'), reason: 'token_revoked' };
    expect(withPresence(online, { session: change })).toMatchObject({
      online: false,
      disconnectReason: 'token_revoked',
    });
  });

  it('shows a device without a session online while it is active, offline once inactive', () => {
    const active = withPresence(offline, { activity: { active: true, at: Date.parse('2025-01-01T00:11:00.000Z') } });
    expect(active).toMatchObject({ online: false, active: true, status: 'active' });
    const inactive = withPresence(active, { activity: { active: false, at: Date.parse('2025-01-01T00:21:00.000Z') } });
    expect(inactive).toMatchObject({ online: false, active: false, status: 'offline' });
    // A live session wins: connected whatever the activity.
    const connected = withPresence(offline, {
      session: presence(true, '2025-01-01T00:11:00.000Z'),
      activity: { active: false, at: Date.parse('2025-01-01T00:30:00.000Z') },
    });
    expect(connected.status).toBe('connected');
  });
});

describe('withPresence and the session details (device page)', () => {
  const lastSession: DeviceSession = {
    live: false,
    transport: 'mqtt',
    mqttProtocolLevel: 4,
    clientId: 'pump-1',
    keepAliveSeconds: 60,
    remoteAddress: '203.0.113.7',
    node: 'hub-a',
    connectedAt: '2025-01-01T00:00:00.000Z',
    endedAt: '2025-01-01T00:10:00.000Z',
  };
  const detail = { ...offline, session: lastSession };

  it('takes a new session with the details its presence message carries', () => {
    const details = { mqttProtocolLevel: 5 as const, clientId: 'pump-2', keepAliveSeconds: 30, remoteAddress: '::1' };
    const change = { ...presence(true, '2025-01-01T00:11:00.000Z'), session: { ...details, node: 'hub-b' } };
    expect(withPresence(detail, { session: change }).session).toEqual({
      live: true,
      transport: 'ws',
      ...details,
      node: 'hub-b',
      connectedAt: '2025-01-01T00:11:00.000Z',
      endedAt: null,
    });
  });

  it('keeps the details of a session that ended, with when it ended', () => {
    const live = {
      ...detail,
      online: true,
      disconnectedAt: null,
      session: { ...lastSession, live: true, endedAt: null },
    };
    expect(withPresence(live, { session: presence(false, '2025-01-01T00:12:00.000Z') }).session).toEqual({
      ...lastSession,
      endedAt: '2025-01-01T00:12:00.000Z',
    });
  });

  it('leaves a list item (no session details) without them', () => {
    expect(withPresence(offline, { session: presence(true, '2025-01-01T00:11:00.000Z') })).not.toHaveProperty(
      'session',
    );
  });
});

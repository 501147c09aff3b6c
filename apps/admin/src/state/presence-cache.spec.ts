import type { AdminPresenceMessage, Device } from '@telehub/contracts';
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

import type { AdminCommandStatusMessage, Command } from '@telehub/contracts';
import { describe, expect, it } from 'vitest';
import { applyStatus, newerCommand } from './command-updates.js';

const queued: Command = {
  id: '0196a3c1-0000-7000-8000-000000000001',
  deviceId: '0196a3c1-0000-7000-8000-0000000000aa',
  name: 'reboot',
  params: {},
  status: 'queued',
  idempotencyKey: null,
  createdAt: '2025-01-01T00:00:00.000Z',
  expiresAt: '2025-01-01T00:05:00.000Z',
  sentAt: null,
  deliveredAt: null,
  finishedAt: null,
  sendCount: 0,
  result: null,
  error: null,
  transitions: [{ status: 'queued', at: '2025-01-01T00:00:00.000Z' }],
};

const status = (value: AdminCommandStatusMessage['status'], at: number, extra = {}): AdminCommandStatusMessage => ({
  type: 'command_status',
  id: queued.id,
  deviceId: queued.deviceId,
  name: queued.name,
  status: value,
  at,
  ...extra,
});

describe('command status updates', () => {
  it('adds each new status to the timeline, once', () => {
    const sent = applyStatus(queued, status('sent', Date.parse('2025-01-01T00:00:00.040Z')));
    const again = applyStatus(sent, status('sent', Date.parse('2025-01-01T00:00:00.050Z')));
    expect(again.status).toBe('sent');
    expect(again.transitions).toEqual([
      { status: 'queued', at: '2025-01-01T00:00:00.000Z' },
      { status: 'sent', at: '2025-01-01T00:00:00.040Z' },
    ]);
  });

  it('takes the whole command a final status carries', () => {
    const done: Command = {
      ...queued,
      status: 'failed',
      error: 'no such file',
      transitions: [...queued.transitions, { status: 'failed', at: '2025-01-01T00:00:01.000Z' }],
    };
    expect(applyStatus(queued, status('failed', 1, { command: done }))).toBe(done);
  });

  it('never moves a finished command back (a late, out-of-order status)', () => {
    const done: Command = { ...queued, status: 'succeeded' };
    expect(applyStatus(done, status('delivered', 1))).toBe(done);
  });

  it('prefers the view that got further when the REST answer and the live status cross', () => {
    const sent = applyStatus(queued, status('sent', 1));
    expect(newerCommand(sent, queued)).toBe(sent);
    expect(newerCommand(queued, sent)).toBe(sent);
    const cancelled: Command = { ...queued, status: 'cancelled' };
    expect(newerCommand(sent, cancelled)).toBe(cancelled);
  });
});

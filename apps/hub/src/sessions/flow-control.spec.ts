import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../config/hub-config.js';
import type { DeviceEventRecorder } from '../events/device-event.recorder.js';
import type { CloseReason, DeviceConnection } from './device-connection.js';
import { FlowControl } from './flow-control.js';

/** A session that records what flow control does to it. */
function fakeConnection(deviceId: string) {
  const calls: string[] = [];
  const connection = {
    deviceId,
    transport: 'mqtt',
    connectedAt: 0,
    details: { mqttProtocolLevel: 4, clientId: 'client-1', keepAliveSeconds: 60, remoteAddress: '127.0.0.1' },
    paused: false,
    calls,
    pause() {
      this.paused = true;
      calls.push('pause');
    },
    resume() {
      this.paused = false;
      calls.push('resume');
    },
    close(reason: CloseReason) {
      calls.push(`close:${reason}`);
    },
    drain: async () => undefined,
    ended: Promise.resolve(),
    acceptsCommands: false,
    commandCapacity: 0,
    sendCommand: () => false,
  } satisfies DeviceConnection & Record<string, unknown>;
  return connection;
}

/** 10 messages per second, a burst of 2; persistently over the rate after a third of a 3 s window held back. */
function makeFlowControl() {
  const config = loadConfig({
    TELEHUB_DEVICE_RATE_PER_SEC: '10',
    TELEHUB_DEVICE_RATE_BURST: '2',
    TELEHUB_RATE_LIMIT_DISCONNECT_MS: '3000',
  });
  const events: { deviceId: string | null; type: string; detail: Record<string, unknown> }[] = [];
  const recorder: Pick<DeviceEventRecorder, 'record'> = {
    record: (deviceId, type, detail = {}) => void events.push({ deviceId, type, detail }),
  };
  const flow = new FlowControl(recorder as DeviceEventRecorder, config, pino({ level: 'silent' }));
  return { flow, events };
}

describe('FlowControl', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets a burst through at once, then pauses reading until the budget allows the next message', async () => {
    const { flow } = makeFlowControl();
    const device = fakeConnection('a');
    flow.track(device);
    expect(flow.admit(device)).toBeUndefined();
    expect(flow.admit(device)).toBeUndefined();
    let admitted = false;
    void flow.admit(device)?.then(() => {
      admitted = true;
    });
    expect(device.paused).toBe(true);
    await vi.advanceTimersByTimeAsync(99);
    expect(admitted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(admitted).toBe(true);
    expect(device.calls).toEqual(['pause', 'resume']);
  });

  it('resumes reading only when the last held-back message may go', async () => {
    const { flow } = makeFlowControl();
    const device = fakeConnection('a');
    flow.track(device);
    flow.admit(device);
    flow.admit(device);
    const held = [flow.admit(device), flow.admit(device)];
    expect(held.every((promise) => promise instanceof Promise)).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(device.paused).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(device.paused).toBe(false);
    expect(device.calls).toEqual(['pause', 'resume']);
  });

  it('closes a device that keeps sending too fast, recording it once', () => {
    const { flow, events } = makeFlowControl();
    const device = fakeConnection('a');
    flow.track(device);
    // Each message beyond the burst is held back 100 ms; after more than 1 s of the 3 s window, it is closed.
    for (let message = 0; message < 20; message++) flow.admit(device);
    expect(device.calls.filter((call) => call === 'close:rate_limited')).toHaveLength(1);
    expect(events).toEqual([{ deviceId: 'a', type: 'rate_limited', detail: { ratePerSec: 10 } }]);
    // Frames still arriving while it closes go on without a wait and are not recorded again.
    expect(flow.admit(device)).toBeUndefined();
    expect(events).toHaveLength(1);
  });

  it('pauses every session under back-pressure, new ones too, and resumes them when it ends', () => {
    const { flow } = makeFlowControl();
    const first = fakeConnection('a');
    flow.track(first);
    flow.setPressure(true);
    flow.setPressure(true);
    const second = fakeConnection('b');
    flow.track(second);
    expect([first.paused, second.paused]).toEqual([true, true]);
    flow.setPressure(false);
    expect([first.paused, second.paused]).toEqual([false, false]);
    expect(first.calls).toEqual(['pause', 'resume']);
  });

  it('keeps a session paused until both its rate wait and the back-pressure are over', async () => {
    const { flow } = makeFlowControl();
    const device = fakeConnection('a');
    flow.track(device);
    flow.admit(device);
    flow.admit(device);
    void flow.admit(device);
    flow.setPressure(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(device.paused).toBe(true);
    flow.setPressure(false);
    expect(device.paused).toBe(false);
    expect(device.calls).toEqual(['pause', 'resume']);
  });

  it('holds a session for shutdown: a rate wait ending does not resume it', async () => {
    const { flow } = makeFlowControl();
    const device = fakeConnection('a');
    flow.track(device);
    flow.admit(device);
    flow.admit(device);
    const held = flow.admit(device);
    flow.holdForShutdown(device);
    await vi.advanceTimersByTimeAsync(100);
    await held;
    flow.setPressure(true);
    flow.setPressure(false);
    expect(device.paused).toBe(true);
    expect(device.calls).toEqual(['pause']);
  });

  it('drops what a forgotten session held back and no longer meters it', async () => {
    const { flow } = makeFlowControl();
    const device = fakeConnection('a');
    flow.track(device);
    flow.admit(device);
    flow.admit(device);
    let admitted = false;
    void flow.admit(device)?.then(() => {
      admitted = true;
    });
    flow.forget(device);
    await vi.advanceTimersByTimeAsync(1000);
    expect(admitted).toBe(false);
    expect(device.calls).toEqual(['pause']);
    expect(flow.admit(device)).toBeUndefined();
    flow.setPressure(true);
    expect(device.calls).toEqual(['pause']);
  });
});

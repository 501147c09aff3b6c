import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type KeepAliveOwner, KeepAliveTimer, KeepAliveWheel } from './keep-alive.timer.js';

const RESOLUTION_MS = 1000;

function owner(isReading: () => boolean = () => true): KeepAliveOwner & { expired: number } {
  const watched = {
    expired: 0,
    isReading,
    keepAliveExpired: () => {
      watched.expired += 1;
    },
  };
  return watched;
}

describe('KeepAliveTimer on a KeepAliveWheel', () => {
  let wheel: KeepAliveWheel;

  beforeEach(() => {
    vi.useFakeTimers();
    // Not on a second's boundary: the wheel's ticks must not depend on the clock's phase.
    vi.setSystemTime(1_700_000_000_700);
    wheel = new KeepAliveWheel(RESOLUTION_MS);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires after the timeout without activity, never before it and at most one resolution after it', () => {
    const session = owner();
    new KeepAliveTimer(1500, session, wheel).start();
    vi.advanceTimersByTime(1499);
    expect(session.expired).toBe(0);
    vi.advanceTimersByTime(RESOLUTION_MS + 1);
    expect(session.expired).toBe(1);
  });

  it('counts from the last touch', () => {
    const session = owner();
    const timer = new KeepAliveTimer(1500, session, wheel);
    timer.start();
    vi.advanceTimersByTime(1000);
    timer.touch();
    vi.advanceTimersByTime(1499);
    expect(session.expired).toBe(0);
    vi.advanceTimersByTime(RESOLUTION_MS + 1);
    expect(session.expired).toBe(1);
  });

  it('does not count time while the session is not reading', () => {
    let reading = false;
    const session = owner(() => reading);
    new KeepAliveTimer(1500, session, wheel).start();
    vi.advanceTimersByTime(10_000);
    expect(session.expired).toBe(0);
    reading = true;
    vi.advanceTimersByTime(1500 + RESOLUTION_MS);
    expect(session.expired).toBe(1);
  });

  it('stop() cancels, and the wheel keeps no timer once nothing is filed', () => {
    const session = owner();
    const timer = new KeepAliveTimer(1500, session, wheel);
    timer.start();
    timer.stop();
    vi.advanceTimersByTime(5000);
    expect(session.expired).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('runs every session of the process on one timer, each on its own deadline', () => {
    const sessions = Array.from({ length: 100 }, () => owner());
    const timers = sessions.map((session, index) => new KeepAliveTimer(1500 + index * 100, session, wheel));
    for (const timer of timers) timer.start();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1499);
    expect(sessions.filter((session) => session.expired > 0)).toHaveLength(0);
    // By 6,000 ms every deadline up to 5,000 ms has been looked at; none past 6,000 ms has expired.
    vi.advanceTimersByTime(6000 - 1499);
    sessions.forEach((session, index) => {
      const deadline = 1500 + index * 100;
      if (deadline + RESOLUTION_MS <= 6000) expect(session.expired).toBe(1);
      if (deadline > 6000) expect(session.expired).toBe(0);
    });
    vi.advanceTimersByTime(20_000);
    expect(sessions.every((session) => session.expired === 1)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a session stopped by another expiring in the same tick is not looked at again', () => {
    const second = owner();
    const secondTimer = new KeepAliveTimer(1500, second, wheel);
    const first = {
      isReading: () => true,
      keepAliveExpired: () => secondTimer.stop(),
    };
    new KeepAliveTimer(1500, first, wheel).start();
    secondTimer.start();
    vi.advanceTimersByTime(1500 + RESOLUTION_MS);
    expect(second.expired).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeepAliveTimer } from './keep-alive.timer.js';

describe('KeepAliveTimer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires after the timeout without activity', () => {
    const onTimeout = vi.fn();
    new KeepAliveTimer(1500, () => true, onTimeout).start();
    vi.advanceTimersByTime(1499);
    expect(onTimeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onTimeout).toHaveBeenCalledOnce();
  });

  it('counts from the last touch', () => {
    const onTimeout = vi.fn();
    const timer = new KeepAliveTimer(1500, () => true, onTimeout);
    timer.start();
    vi.advanceTimersByTime(1000);
    timer.touch();
    vi.advanceTimersByTime(1499);
    expect(onTimeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onTimeout).toHaveBeenCalledOnce();
  });

  it('does not count time while the session is not reading', () => {
    const onTimeout = vi.fn();
    let reading = false;
    new KeepAliveTimer(1500, () => reading, onTimeout).start();
    vi.advanceTimersByTime(10_000);
    expect(onTimeout).not.toHaveBeenCalled();
    reading = true;
    vi.advanceTimersByTime(3000);
    expect(onTimeout).toHaveBeenCalledOnce();
  });

  it('stop() cancels', () => {
    const onTimeout = vi.fn();
    const timer = new KeepAliveTimer(1500, () => true, onTimeout);
    timer.start();
    timer.stop();
    vi.advanceTimersByTime(5000);
    expect(onTimeout).not.toHaveBeenCalled();
  });
});

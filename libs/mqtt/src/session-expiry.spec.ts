import { describe, expect, it } from 'vitest';
import { negotiateSessionExpiry } from './session-expiry.js';
import type { MqttSessionStore } from './session-store.js';
import { TEST_OPTIONS } from './testing/session-harness.js';

const store = {} as MqttSessionStore;
const withStore = { ...TEST_OPTIONS, sessionStore: store, sessionExpiryMaxSeconds: 3600 };

describe('negotiateSessionExpiry', () => {
  it('3.1.1: the maximum without Clean Session, 0 with it; never announced', () => {
    expect(negotiateSessionExpiry(withStore, 4, false, undefined)).toEqual({ seconds: 3600 });
    expect(negotiateSessionExpiry(withStore, 4, true, undefined)).toEqual({ seconds: 0 });
  });

  it('5: the request up to the maximum; a capped value is announced', () => {
    expect(negotiateSessionExpiry(withStore, 5, false, 60)).toEqual({ seconds: 60 });
    expect(negotiateSessionExpiry(withStore, 5, true, 60)).toEqual({ seconds: 60 });
    expect(negotiateSessionExpiry(withStore, 5, false, undefined)).toEqual({ seconds: 0 });
    expect(negotiateSessionExpiry(withStore, 5, false, 0xffffffff)).toEqual({ seconds: 3600, announce: 3600 });
  });

  it('keeps nothing without a store, and tells an MQTT 5 client that asked', () => {
    const options = { ...TEST_OPTIONS, sessionExpiryMaxSeconds: 3600 };
    expect(negotiateSessionExpiry(options, 4, false, undefined)).toEqual({ seconds: 0 });
    expect(negotiateSessionExpiry(options, 5, false, 300)).toEqual({ seconds: 0, announce: 0 });
  });
});

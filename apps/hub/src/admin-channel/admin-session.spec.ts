import { EventEmitter } from 'node:events';
import type { AdminRole, AdminServerMessage, AdminSubscribeMessage } from '@telehub/contracts';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AdminIdentity } from '../admin-auth/admin-identity.js';
import type { HubConfig } from '../config/hub-config.js';
import { AdminAuthRequired, AdminMessageRefused } from './admin-channel.errors.js';
import {
  AdminSession,
  type AdminSessionServices,
  type AdminSocket,
  AUTHENTICATE_FIRST,
  type ChannelTokenCheck,
  type SubscriptionSnapshot,
} from './admin-session.js';
import type { LiveSubscription } from './live-subscription.js';

const CONFIG: HubConfig['adminChannel'] = {
  authTimeoutMs: 1000,
  maxUnauthenticated: 10,
  allowedOrigins: [],
  defaultRate: 10,
  maxRate: 50,
  maxBufferBytes: 1000,
  maxPendingPoints: 100,
  maxSubscriptions: 2,
  maxMessageBytes: 65536,
  pingIntervalMs: 15_000,
  stallTimeoutMs: 5000,
  clusterInterestWaitMs: 1000,
  clusterMaxPoints: 2000,
};

/** What a `ws` WebSocket does for a session, recorded: frames sent (parsed), close, pings. */
class FakeSocket extends EventEmitter implements AdminSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: AdminServerMessage[] = [];
  closedWith: { code: number; reason: string } | undefined;
  pings = 0;
  terminated = false;

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
    this.readyState = 2;
  }
  ping(): void {
    this.pings += 1;
  }
  terminate(): void {
    this.terminated = true;
  }
  ofType<T extends AdminServerMessage['type']>(type: T): Extract<AdminServerMessage, { type: T }>[] {
    return this.sent.filter((message) => message.type === type) as Extract<AdminServerMessage, { type: T }>[];
  }
}

function identity(role: AdminRole, expiresAt: Date | null = null): AdminIdentity {
  return { tokenId: `token-${role}`, name: role, role, source: 'api', expiresAt };
}

const EMPTY_SNAPSHOT: SubscriptionSnapshot = {
  message: { watermark: 0, from: 0, to: 0, bucket: 'raw', bucketMs: 0, agg: 'avg', series: [] },
  includedInSnapshot: () => false,
};

function subscribeMessage(id: string, extra: Partial<AdminSubscribeMessage> = {}): AdminSubscribeMessage {
  return { type: 'subscribe', id, devices: ['d1'], metrics: '*', ...extra };
}

describe('AdminSession', () => {
  let socket: FakeSocket;
  let registered: Set<LiveSubscription>;
  let services: AdminSessionServices;
  let verdict: ChannelTokenCheck;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    socket = new FakeSocket();
    registered = new Set();
    verdict = { ok: true, identity: identity('viewer') };
    services = {
      config: CONFIG,
      nodeId: 'hub-1',
      mqttPorts: () => ({ mqttPort: 1883 }),
      logger: pino({ level: 'silent' }),
      verifyToken: vi.fn(async () => verdict),
      snapshot: vi.fn(async () => EMPTY_SNAPSHOT),
      register: (subscription) => {
        registered.add(subscription);
      },
      unregister: (subscription) => registered.delete(subscription),
    };
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A session signed in with a token of `role` in its handshake header. */
  function signedIn(role: AdminRole = 'operator'): AdminSession {
    return new AdminSession(socket, services, identity(role));
  }

  describe('before authentication', () => {
    it('accepts nothing but auth: other messages are refused, and a refusal closes with 4401', () => {
      const session = new AdminSession(socket, services, undefined);
      expect(session.isAuthenticated).toBe(false);
      expect(() => session.authorize('ping')).toThrow(AdminAuthRequired);
      session.refuse('invalid_json', 'a message is one JSON object');
      expect(socket.closedWith).toEqual({ code: 4401, reason: AUTHENTICATE_FIRST });
      expect(socket.sent).toEqual([]);
    });

    it('closes with 4401 when no auth comes within TELEHUB_ADMIN_WS_AUTH_TIMEOUT_MS', () => {
      new AdminSession(socket, services, undefined);
      vi.advanceTimersByTime(CONFIG.authTimeoutMs - 1);
      expect(socket.closedWith).toBeUndefined();
      vi.advanceTimersByTime(1);
      expect(socket.closedWith).toEqual({ code: 4401, reason: 'authentication timeout' });
    });

    it('answers a valid token with auth_ok (node, default rate, role, MQTT ports) and stops the timeout', async () => {
      const session = new AdminSession(socket, services, undefined);
      await session.signIn('tha_good');
      expect(services.verifyToken).toHaveBeenCalledWith('tha_good');
      expect(socket.sent).toEqual([
        { type: 'auth_ok', node: 'hub-1', defaultRate: 10, role: 'viewer', mqttPort: 1883 },
      ]);
      expect(session.isAuthenticated).toBe(true);
      vi.advanceTimersByTime(CONFIG.authTimeoutMs * 2);
      expect(socket.closedWith).toBeUndefined();
      // A second auth message is harmless: no second check, no second answer.
      await session.signIn('tha_other');
      expect(services.verifyToken).toHaveBeenCalledTimes(1);
      expect(socket.sent).toHaveLength(1);
    });

    it.each([
      [{ ok: false, refusal: 'unknown' }, 4403, 'invalid admin token'],
      [{ ok: false, refusal: 'revoked' }, 4403, 'admin token revoked'],
      [{ ok: false, refusal: 'expired' }, 4403, 'admin token expired'],
      [{ ok: false, refusal: 'throttled' }, 4429, 'too many failed authentications'],
      [{ ok: false, refusal: 'unavailable' }, 1013, 'could not check the token; try again'],
    ] as const)('closes a refused sign-in (%o) with %i', async (check, code, reason) => {
      verdict = check;
      const session = new AdminSession(socket, services, undefined);
      await session.signIn('tha_bad');
      expect(socket.closedWith).toEqual({ code, reason });
      expect(socket.sent).toEqual([]);
      expect(session.isAuthenticated).toBe(false);
    });
  });

  describe('signed in', () => {
    it('lets a role send what ADMIN_MESSAGE_ROLES allows it, and refuses the rest as forbidden', () => {
      const viewer = new AdminSession(new FakeSocket(), services, identity('viewer'));
      expect(() => viewer.authorize('subscribe')).not.toThrow();
      let refusal: unknown;
      try {
        viewer.authorize('command');
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(AdminMessageRefused);
      expect(refusal).toMatchObject({
        code: 'forbidden',
        message: '"command" needs the operator role; this admin token has the viewer role',
      });
      expect(() => signedIn('operator').authorize('command')).not.toThrow();
    });

    it('answers a refusal with an error frame naming the id, and stays open', () => {
      const session = signedIn();
      session.refuse('invalid_message', 'devices: …', 's1');
      session.refuse('invalid_json', 'a message is one JSON object');
      expect(socket.ofType('error')).toEqual([
        { type: 'error', id: 's1', code: 'invalid_message', message: 'devices: …' },
        { type: 'error', code: 'invalid_json', message: 'a message is one JSON object' },
      ]);
      expect(socket.closedWith).toBeUndefined();
    });

    it('closes with 4403 when its token expires', () => {
      new AdminSession(socket, services, identity('viewer', new Date(Date.now() + 60_000)));
      vi.advanceTimersByTime(59_999);
      expect(socket.closedWith).toBeUndefined();
      vi.advanceTimersByTime(1);
      expect(socket.closedWith).toEqual({ code: 4403, reason: 'admin token expired' });
    });

    it('answers ping with pong, with its ref when it had one', () => {
      const session = signedIn();
      expect(session.pong('p1', 42)).toEqual({ type: 'pong', ref: 'p1', at: 42 });
      expect(session.pong(undefined, 42)).toEqual({ type: 'pong', at: 42 });
    });
  });

  describe('subscriptions', () => {
    it('registers a subscription before its history is read, then sends the snapshot', async () => {
      let registeredWhenRead = 0;
      services.snapshot = vi.fn(async () => {
        registeredWhenRead = registered.size;
        return EMPTY_SNAPSHOT;
      });
      const session = signedIn();
      await session.subscribe(subscribeMessage('s1'));
      expect(registeredWhenRead).toBe(1);
      expect(socket.ofType('snapshot')).toEqual([{ type: 'snapshot', id: 's1', ...EMPTY_SNAPSHOT.message }]);
    });

    it('reads the history only once the other hub processes know the subscription (register resolved)', async () => {
      let known: () => void = () => undefined;
      services.register = (subscription) => {
        registered.add(subscription);
        return new Promise<void>((resolve) => (known = resolve));
      };
      const session = signedIn();
      const subscribing = session.subscribe(subscribeMessage('s1'));
      await vi.advanceTimersByTimeAsync(50);
      expect(services.snapshot).not.toHaveBeenCalled();
      known();
      await subscribing;
      expect(services.snapshot).toHaveBeenCalledTimes(1);
      expect(socket.ofType('snapshot')).toHaveLength(1);
    });

    it('refuses more than TELEHUB_ADMIN_WS_MAX_SUBSCRIPTIONS; an id subscribed again replaces its subscription', async () => {
      const session = signedIn();
      await session.subscribe(subscribeMessage('a'));
      await session.subscribe(subscribeMessage('b'));
      await session.subscribe(subscribeMessage('a'));
      expect(registered.size).toBe(2);
      await expect(session.subscribe(subscribeMessage('c'))).rejects.toMatchObject({
        code: 'too_many_subscriptions',
        message: 'at most 2 subscriptions per connection (TELEHUB_ADMIN_WS_MAX_SUBSCRIPTIONS)',
      });
      session.unsubscribe('a');
      await session.subscribe(subscribeMessage('c'));
      expect([...registered].map((subscription) => subscription.id).sort()).toEqual(['b', 'c']);
    });

    it('sends no snapshot for a subscription replaced while its history was read', async () => {
      let release: (snapshot: SubscriptionSnapshot) => void = () => undefined;
      services.snapshot = vi
        .fn()
        .mockImplementationOnce(() => new Promise<SubscriptionSnapshot>((resolve) => (release = resolve)))
        .mockImplementation(async () => EMPTY_SNAPSHOT);
      const session = signedIn();
      const first = session.subscribe(subscribeMessage('s1', { metrics: ['old'] }));
      await session.subscribe(subscribeMessage('s1', { metrics: ['new'] }));
      release(EMPTY_SNAPSHOT);
      await first;
      expect(socket.ofType('snapshot')).toHaveLength(1);
      expect(registered.size).toBe(1);
    });

    it('takes a subscription out again when its history cannot be read', async () => {
      services.snapshot = vi.fn(async () => {
        throw new AdminMessageRefused('invalid_time', 'history: not a time');
      });
      const session = signedIn();
      await expect(session.subscribe(subscribeMessage('s1'))).rejects.toMatchObject({ code: 'invalid_time' });
      expect(registered.size).toBe(0);
      expect(session.wantsEventsFor('d1')).toBe(false);
    });

    it('relays events of the devices its subscriptions cover, unless they asked for none', async () => {
      const session = signedIn();
      expect(session.wantsEventsFor('d1')).toBe(false);
      await session.subscribe(subscribeMessage('quiet', { devices: ['d2'], events: false }));
      await session.subscribe(subscribeMessage('s1'));
      expect(session.wantsEventsFor('d1')).toBe(true);
      expect(session.wantsEventsFor('d2')).toBe(false);
      expect(session.wantsEventsFor(null)).toBe(false);
    });

    it('sends live points at most at the subscription rate, gathering the ones in between', async () => {
      const session = signedIn();
      await session.subscribe(subscribeMessage('s1', { maxRate: 2 }));
      const [subscription] = registered;
      const add = (time: number) => {
        subscription!.add('d1', 'temp', time, time);
        session.schedule(subscription!);
      };
      add(1);
      expect(socket.ofType('points')).toHaveLength(1); // the first goes at once
      add(2);
      add(3);
      vi.advanceTimersByTime(499);
      expect(socket.ofType('points')).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(socket.ofType('points').map((message) => message.series[0]!.times)).toEqual([[1], [2, 3]]);
    });

    it('keeps only the newest point of each series while the client reads too slowly, then says how many it left out', async () => {
      const session = signedIn();
      await session.subscribe(subscribeMessage('s1', { maxRate: 10 }));
      const [subscription] = registered;
      socket.bufferedAmount = CONFIG.maxBufferBytes + 1;
      for (let time = 1; time <= 5; time += 1) subscription!.add('d1', 'temp', time, time);
      session.schedule(subscription!);
      expect(socket.ofType('points')).toEqual([]);
      socket.bufferedAmount = 0;
      vi.advanceTimersByTime(100);
      expect(socket.ofType('lagged')).toEqual([{ type: 'lagged', id: 's1', dropped: 4 }]);
      expect(socket.ofType('points')).toEqual([
        { type: 'points', id: 's1', series: [{ deviceId: 'd1', metric: 'temp', times: [5], values: [5] }] },
      ]);
    });

    it('closes with 1013 a client that stays behind longer than TELEHUB_ADMIN_WS_STALL_TIMEOUT_MS', async () => {
      const session = signedIn();
      socket.bufferedAmount = CONFIG.maxBufferBytes + 1;
      session.send({ type: 'pong', at: 1 });
      vi.advanceTimersByTime(CONFIG.stallTimeoutMs);
      session.send({ type: 'pong', at: 2 });
      expect(socket.closedWith).toBeUndefined();
      vi.advanceTimersByTime(1);
      session.send({ type: 'pong', at: 3 });
      expect(socket.closedWith).toEqual({ code: 1013, reason: 'client stopped reading' });
      expect(socket.ofType('pong').map((pong) => pong.at)).toEqual([1, 2]);
    });

    it('leaves the channel when the connection is gone: subscriptions out, timers stopped', async () => {
      const session = signedIn();
      await session.subscribe(subscribeMessage('s1'));
      session.disconnected();
      expect(registered.size).toBe(0);
      expect(session.isAuthenticated).toBe(false);
      session.send({ type: 'pong', at: 1 });
      expect(socket.ofType('pong')).toEqual([]);

      const waitingSocket = new FakeSocket();
      new AdminSession(waitingSocket, services, undefined).disconnected();
      vi.advanceTimersByTime(CONFIG.authTimeoutMs);
      expect(waitingSocket.closedWith).toBeUndefined();
    });
  });

  it('pings (RFC 6455 §5.5.2) and ends a connection that did not answer the previous ping', () => {
    const session = signedIn();
    session.heartbeat();
    expect(socket.pings).toBe(1);
    socket.emit('pong');
    session.heartbeat();
    expect(socket.pings).toBe(2);
    expect(socket.terminated).toBe(false);
    // Any message counts as an answer too.
    socket.emit('message');
    session.heartbeat();
    expect(socket.terminated).toBe(false);
    session.heartbeat();
    expect(socket.terminated).toBe(true);
  });

  it('remembers the commands it created, whose status it is sent without a subscription', () => {
    const session = signedIn();
    session.commandCreated('c1');
    expect(session.sentCommand('c1')).toBe(true);
    expect(session.sentCommand('c2')).toBe(false);
  });
});

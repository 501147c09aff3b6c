import {
  ADMIN_CLOSE,
  ADMIN_WS_PATH,
  type AdminClientMessage,
  type AdminErrorMessage,
  type AdminLaggedMessage,
  type AdminPointsMessage,
  type AdminServerMessage,
  type AdminSnapshotMessage,
  type AdminSubscribeMessage,
  type BackoffOptions,
  backoffDelay,
} from '@telehub/contracts';
import { Store } from '../state/store.js';
import { DEFAULT_MQTT_PORT } from './hub-endpoints.js';

/** Browsers cannot send WebSocket pings, so the channel's own `ping` keeps proxies from closing an idle socket. */
export const PING_INTERVAL_MS = 5_000;
/**
 * The hub sends `fleet` every second and answers pings: this long without any message means the connection
 * is dead even if the browser has not noticed (a dropped network can leave a socket open for minutes).
 */
export const SILENCE_TIMEOUT_MS = 12_000;
/**
 * A connection attempt not authenticated in this time is given up and tried again: with the network gone, a
 * new TCP connection can hang for minutes before the browser reports it failed.
 */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Reconnect waits (the shared equal-jitter backoff): half a second at first, at most ten, so many tabs spread out. */
const RECONNECT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000 };

export type ConnectionStatus =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open'; node: string; since: number; mqttPort?: number }
  | { kind: 'reconnecting'; attempt: number; retryAt: number; reason: string }
  | { kind: 'unauthorized' }
  | { kind: 'stopped' };

export type SubscriptionRequest = Omit<AdminSubscribeMessage, 'type' | 'id'>;

export interface SubscriptionHandlers {
  /** History up to the watermark; sent again after every reconnect (start over from it). */
  onSnapshot(message: AdminSnapshotMessage): void;
  onPoints?(message: AdminPointsMessage): void;
  onLagged?(message: AdminLaggedMessage): void;
  onError?(message: AdminErrorMessage): void;
}

export interface Subscription {
  /** Subscribes again with a new request (a new range): the next snapshot replaces the data. */
  update(request: SubscriptionRequest): void;
  close(): void;
}

type BroadcastType = 'presence' | 'state' | 'device_event' | 'command_created' | 'command_status' | 'fleet';
type MessageOf<T extends AdminServerMessage['type']> = Extract<AdminServerMessage, { type: T }>;

interface ActiveSubscription {
  request: SubscriptionRequest;
  handlers: SubscriptionHandlers;
  /** The id on the wire; a new one for each subscribe, so late messages of a replaced one are ignored. */
  wireId?: string;
}

export interface AdminSocketOptions {
  token: string;
  url?: string;
  backoff?: BackoffOptions;
  /** The hub refused the token, or ended the connection because it was revoked or expired: sign out. */
  onUnauthorized?: (reason: string) => void;
}

/**
 * The admin WebSocket channel, kept up: it reconnects with backoff after the hub restarts or the network
 * drops, authenticates again and renews every subscription, whose snapshot then fills the gap. The rest of
 * the dashboard only subscribes and listens; it never handles a reconnect itself.
 */
export class AdminSocket {
  readonly status = new Store<ConnectionStatus>({ kind: 'stopped' });
  /** Counts authenticated connections: views reload their REST data when it goes up after the first. */
  readonly connections = new Store(0);
  /** The hub's MQTT port as it said at auth; TELEHUB_MQTT_PORT's default until then. */
  readonly mqttPort = new Store(DEFAULT_MQTT_PORT);

  private socket: WebSocket | undefined;
  private attempt = 0;
  private nextWireId = 1;
  private lastMessageAt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private readonly subscriptions = new Set<ActiveSubscription>();
  private readonly byWireId = new Map<string, ActiveSubscription>();
  private readonly listeners = new Map<string, Set<(message: AdminServerMessage) => void>>();
  private readonly url: string;
  private readonly backoff: BackoffOptions;

  constructor(private readonly options: AdminSocketOptions) {
    this.url = options.url ?? defaultUrl();
    this.backoff = options.backoff ?? RECONNECT_BACKOFF;
  }

  start(): void {
    if (this.status.get().kind !== 'stopped') return;
    window.addEventListener('online', this.retryNow);
    this.connect();
  }

  stop(): void {
    window.removeEventListener('online', this.retryNow);
    clearTimeout(this.retryTimer);
    this.dropSocket();
    this.status.set({ kind: 'stopped' });
  }

  /** Skips the backoff wait (the "retry now" button, or the browser saying the network is back). */
  readonly retryNow = (): void => {
    if (this.status.get().kind !== 'reconnecting') return;
    clearTimeout(this.retryTimer);
    this.connect();
  };

  subscribe(request: SubscriptionRequest, handlers: SubscriptionHandlers): Subscription {
    const active: ActiveSubscription = { request, handlers };
    this.subscriptions.add(active);
    this.sendSubscribe(active);
    return {
      update: (next) => {
        active.request = next;
        this.sendSubscribe(active);
      },
      close: () => {
        this.subscriptions.delete(active);
        if (active.wireId) {
          this.byWireId.delete(active.wireId);
          this.send({ type: 'unsubscribe', id: active.wireId });
        }
      },
    };
  }

  on<T extends BroadcastType>(type: T, listener: (message: MessageOf<T>) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    const untyped = listener as (message: AdminServerMessage) => void;
    set.add(untyped);
    return () => set.delete(untyped);
  }

  private connect(): void {
    this.dropSocket();
    this.status.set({ kind: 'connecting', attempt: this.attempt });
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch (error) {
      this.scheduleReconnect(error instanceof Error ? error.message : 'cannot open a WebSocket');
      return;
    }
    this.socket = socket;
    this.connectTimer = setTimeout(() => {
      this.dropSocket();
      this.scheduleReconnect('the hub did not answer');
    }, CONNECT_TIMEOUT_MS);
    socket.onopen = () => {
      this.lastMessageAt = Date.now();
      socket.send(JSON.stringify({ type: 'auth', token: this.options.token } satisfies AdminClientMessage));
    };
    socket.onmessage = (event) => {
      this.lastMessageAt = Date.now();
      if (typeof event.data !== 'string') return;
      let message: AdminServerMessage;
      try {
        message = JSON.parse(event.data) as AdminServerMessage;
      } catch {
        return;
      }
      this.dispatch(message);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      clearTimeout(this.connectTimer);
      this.stopHeartbeat();
      this.forgetWireIds();
      if (event.code === ADMIN_CLOSE.authFailed || event.code === ADMIN_CLOSE.authRequired) {
        this.status.set({ kind: 'unauthorized' });
        this.options.onUnauthorized?.(event.reason);
        return;
      }
      this.scheduleReconnect(closeReason(event));
    };
    // An error is always followed by close, which decides what happens next.
    socket.onerror = () => undefined;
  }

  private dispatch(message: AdminServerMessage): void {
    switch (message.type) {
      case 'auth_ok':
        clearTimeout(this.connectTimer);
        this.attempt = 0;
        this.status.set({ kind: 'open', node: message.node, since: Date.now(), mqttPort: message.mqttPort });
        if (message.mqttPort !== undefined) this.mqttPort.set(message.mqttPort);
        this.connections.update((count) => count + 1);
        this.startHeartbeat();
        this.forgetWireIds();
        for (const active of this.subscriptions) this.sendSubscribe(active);
        return;
      case 'snapshot':
        this.byWireId.get(message.id)?.handlers.onSnapshot(message);
        return;
      case 'points':
        this.byWireId.get(message.id)?.handlers.onPoints?.(message);
        return;
      case 'lagged':
        this.byWireId.get(message.id)?.handlers.onLagged?.(message);
        return;
      case 'error':
        if (message.id) this.byWireId.get(message.id)?.handlers.onError?.(message);
        else console.warn(`admin channel: ${message.code}: ${message.message}`);
        return;
      case 'unsubscribed':
      case 'pong':
        return;
      default:
        for (const listener of this.listeners.get(message.type) ?? []) listener(message);
    }
  }

  private sendSubscribe(active: ActiveSubscription): void {
    if (active.wireId) {
      this.byWireId.delete(active.wireId);
      // The old id is replaced by a new one: tell the hub to stop sending for it.
      if (this.isOpen()) this.send({ type: 'unsubscribe', id: active.wireId });
      active.wireId = undefined;
    }
    if (!this.isOpen()) return;
    active.wireId = `s${this.nextWireId++}`;
    this.byWireId.set(active.wireId, active);
    this.send({ type: 'subscribe', id: active.wireId, ...active.request });
  }

  private isOpen(): boolean {
    return this.status.get().kind === 'open' && this.socket?.readyState === WebSocket.OPEN;
  }

  private send(message: AdminClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private scheduleReconnect(reason: string): void {
    this.attempt += 1;
    const delay = backoffDelay(this.attempt, this.backoff);
    this.status.set({ kind: 'reconnecting', attempt: this.attempt, retryAt: Date.now() + delay, reason });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastMessageAt > SILENCE_TIMEOUT_MS) {
        // Closing a dead connection can take as long as the TCP timeout: let it go and start a new one.
        this.dropSocket();
        this.scheduleReconnect('no answer from the hub');
        return;
      }
      this.send({ type: 'ping' });
    }, PING_INTERVAL_MS);
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private dropSocket(): void {
    clearTimeout(this.connectTimer);
    this.stopHeartbeat();
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    socket.onerror = () => undefined;
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close();
    this.forgetWireIds();
  }

  /** Subscription ids belong to one connection: the next one subscribes everything again with new ids. */
  private forgetWireIds(): void {
    for (const active of this.subscriptions) active.wireId = undefined;
    this.byWireId.clear();
  }
}

function defaultUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${ADMIN_WS_PATH}`;
}

function closeReason(event: CloseEvent): string {
  if (event.code === ADMIN_CLOSE.serverShutdown) return 'the hub is restarting';
  if (event.code === ADMIN_CLOSE.connectionDropped) return 'the connection dropped';
  return event.reason || `closed (${event.code})`;
}

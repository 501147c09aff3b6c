import type { MqttSession } from '../mqtt-session.js';
import type { MqttSessionStore, SessionEnd, SessionOpenRequest, StoredSession } from '../session-store.js';

interface Kept {
  subscriptions: Array<{ filter: string; qos: 0 | 1 }>;
  unacknowledged: StoredSession['unacknowledged'];
  expirySeconds: number;
  /** The connection holding it, or undefined once that ended. */
  holder: MqttSession | undefined;
}

/** A session store in memory, keyed by client id, that records the calls made to it: for the library's own tests. */
export class MemorySessionStore implements MqttSessionStore {
  readonly sessions = new Map<string, Kept>();
  readonly calls: string[] = [];
  /** Makes the next call of this kind reject. */
  failNext: 'open' | 'saveSubscriptions' | undefined;

  async open(session: MqttSession, request: SessionOpenRequest): Promise<StoredSession | undefined> {
    this.calls.push(`open ${request.clientId} clean=${request.cleanStart} expiry=${request.expirySeconds}`);
    this.maybeFail('open');
    const earlier = request.cleanStart ? undefined : this.sessions.get(request.clientId);
    this.sessions.delete(request.clientId);
    if (request.expirySeconds > 0) {
      this.sessions.set(request.clientId, {
        subscriptions: earlier?.subscriptions ?? [],
        unacknowledged: earlier?.unacknowledged ?? [],
        expirySeconds: request.expirySeconds,
        holder: session,
      });
    }
    return earlier && { subscriptions: earlier.subscriptions, unacknowledged: earlier.unacknowledged };
  }

  async saveSubscriptions(session: MqttSession, subscriptions: ReadonlyMap<string, 0 | 1>): Promise<void> {
    this.calls.push(`save ${[...subscriptions.keys()].join(',')}`);
    this.maybeFail('saveSubscriptions');
    const kept = this.held(session);
    if (kept) kept.subscriptions = [...subscriptions].map(([filter, qos]) => ({ filter, qos }));
  }

  async close(session: MqttSession, end: SessionEnd): Promise<void> {
    this.calls.push(`close expiry=${end.expirySeconds} unacknowledged=${end.unacknowledged.length}`);
    const kept = this.held(session);
    if (!kept) return;
    if (end.expirySeconds === 0) {
      this.sessions.delete(session.clientId!);
      return;
    }
    Object.assign(kept, { expirySeconds: end.expirySeconds, unacknowledged: end.unacknowledged, holder: undefined });
  }

  private held(session: MqttSession): Kept | undefined {
    const kept = this.sessions.get(session.clientId!);
    return kept?.holder === session ? kept : undefined;
  }

  private maybeFail(call: 'open' | 'saveSubscriptions'): void {
    if (this.failNext !== call) return;
    this.failNext = undefined;
    throw new Error(`${call} failed`);
  }
}

import type { CloseReason } from '../close-reason.js';
import { MqttSessionError } from '../mqtt-session.error.js';
import type { AuthenticateResult, MqttSessionHooks, PublishOutcome } from '../mqtt-session.types.js';
import type { HookScript, HookTiming } from './fuzz-input.arbitrary.js';

/** What a fuzzed session asked of its hooks, in order, and what went wrong at them. */
export interface Trace {
  events: string[];
  closes: Array<{ reason: CloseReason; detail?: string }>;
  /** Errors the library threw at a hook that called it, other than the documented MqttSessionError. */
  thrownAtHooks: unknown[];
  /** Hook work scheduled for a later macrotask and not yet done. */
  pending: number;
}

function answerLater<T>(trace: Trace, timing: HookTiming, answer: () => T): Promise<T> {
  if (timing === 'now') return Promise.resolve().then(answer);
  trace.pending += 1;
  return new Promise((resolve, reject) =>
    setImmediate(() => {
      trace.pending -= 1;
      try {
        resolve(answer());
      } catch (error) {
        reject(error);
      }
    }),
  );
}

function publishOutcome(answer: HookScript['publishes'][number]['answer']): PublishOutcome {
  switch (answer) {
    case 'accepted':
      return { kind: 'accepted' };
    case 'invalid_payload':
      // Long enough that a small client Maximum Packet Size leaves it out of the PUBACK.
      return { kind: 'invalid_payload', message: 'metric "temp" must be a number or a boolean, got a string' };
    case 'not_authorized':
      return { kind: 'not_authorized' };
    case 'refused':
      return { kind: 'refused', reasonCode: 0x80, message: 'no' };
    case 'unavailable':
      return { kind: 'unavailable' };
    case 'shutting_down':
      return { kind: 'unavailable', shuttingDown: true };
    case 'throw':
    case 'reject':
      throw new Error('hook failed');
  }
}

/** Hooks that answer as a fuzz case's script says; they record what the session asked of them and when. */
export function scriptedHooks(script: HookScript, trace: Trace): MqttSessionHooks {
  let publishCalls = 0;
  let subscribeCalls = 0;
  const guard = (call: () => void) => {
    try {
      call();
    } catch (error) {
      if (!(error instanceof MqttSessionError)) trace.thrownAtHooks.push(error);
    }
  };
  return {
    authenticate: () => {
      trace.events.push('authenticate');
      const answer = script.auth;
      if (answer === 'throw') throw new Error('auth hook failed');
      return answerLater(trace, script.authTiming, (): AuthenticateResult => {
        trace.events.push(`auth:${answer}`);
        if (answer === 'reject') throw new Error('auth failed');
        if (answer === 'ok') return { ok: true, deviceId: 'device-1' };
        return { ok: false, reason: answer };
      });
    },
    onPublish: (session) => {
      trace.events.push('publish');
      const { answer, timing } = script.publishes[publishCalls++ % script.publishes.length]!;
      if (script.pauseOnPublish) {
        guard(() => session.pause());
        trace.pending += 1;
        setImmediate(() => {
          trace.pending -= 1;
          guard(() => session.resume());
        });
      }
      if (answer === 'throw') throw new Error('publish hook failed');
      return answerLater(trace, timing, () => publishOutcome(answer));
    },
    authorizeSubscribe: (_session, _filter, qos) => {
      trace.events.push('subscribe');
      const answer = script.subscribes[subscribeCalls++ % script.subscribes.length]!;
      if (answer === 'throw') throw new Error('subscribe hook failed');
      if (answer === 'refuse') return { granted: false };
      return { granted: true, qos: Math.min(qos, answer) as 0 | 1 };
    },
    onSubscribed: (session, filter, qos) => {
      trace.events.push('subscribed');
      if (script.publishOnSubscribe) {
        guard(() => session.publish({ topic: filter, payload: '{"id":"c1"}', qos, properties: { contentType: 'x' } }));
      }
    },
    onOutboundAck: () => {
      trace.events.push('outbound_ack');
    },
    onWill: () => {
      trace.events.push('will');
    },
    onClose: (_session, reason, detail) => {
      trace.events.push('close');
      trace.closes.push({ reason, detail });
    },
  };
}

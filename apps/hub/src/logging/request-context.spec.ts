import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { requestContextFields, runInRequestContext } from './request-context.js';

/** What a continuation started inside a request's handling sees once `settle` has run. */
function continuation(): { fields: Promise<ReturnType<typeof requestContextFields>>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { fields: gate.then(() => requestContextFields()), release };
}

describe('request context', () => {
  it('carries the request id through the asynchronous work of the request', async () => {
    const end = new EventEmitter();
    let pending!: ReturnType<typeof continuation>;
    runInRequestContext({ reqId: 'one' }, end, () => {
      pending = continuation();
    });
    pending.release();
    expect(await pending.fields).toEqual({ reqId: 'one' });
    end.emit('close');
    expect(requestContextFields()).toEqual({});
  });

  it('switches the storage off once no request is being handled, and on again for the next', async () => {
    const first = new EventEmitter();
    const second = new EventEmitter();
    let ofFirst!: ReturnType<typeof continuation>;
    let ofSecond!: ReturnType<typeof continuation>;
    runInRequestContext({ reqId: 'first' }, first, () => {
      ofFirst = continuation();
    });
    runInRequestContext({ reqId: 'second' }, second, () => {
      ofSecond = continuation();
    });
    // One request ended, one still runs: the storage stays on.
    first.emit('close');
    ofFirst.release();
    expect(await ofFirst.fields).toEqual({ reqId: 'first' });
    // None runs: the storage (and on Node 20 its process-wide promise hook) is off; late work has no request.
    second.emit('close');
    ofSecond.release();
    expect(await ofSecond.fields).toEqual({});

    const third = new EventEmitter();
    let ofThird!: ReturnType<typeof continuation>;
    runInRequestContext({ reqId: 'third' }, third, () => {
      ofThird = continuation();
    });
    ofThird.release();
    expect(await ofThird.fields).toEqual({ reqId: 'third' });
    third.emit('close');
  });
});

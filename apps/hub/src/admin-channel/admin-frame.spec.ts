import { describe, expect, it } from 'vitest';
import { routeAdminFrame, UNKNOWN_MESSAGE, UNREADABLE_FRAME } from './admin-frame.js';

describe('routeAdminFrame', () => {
  it('routes a JSON object by its type, when the channel knows the type', () => {
    for (const type of ['auth', 'ping', 'subscribe', 'unsubscribe', 'command']) {
      const message = { type, id: 'x' };
      expect(routeAdminFrame(JSON.stringify(message), 32)).toEqual({ event: type, data: message });
    }
  });

  it('routes JSON of no known type to UNKNOWN_MESSAGE, a type named like an object key included', () => {
    for (const json of [
      '{"type":"bogus"}',
      '{"type":"constructor"}',
      '{"type":"__proto__"}',
      '{}',
      '[]',
      'null',
      '7',
    ]) {
      expect(routeAdminFrame(json, 32), json).toEqual({ event: UNKNOWN_MESSAGE, data: JSON.parse(json) });
    }
  });

  it('routes binary frames, text that is not JSON and JSON nested too deep to UNREADABLE_FRAME', () => {
    expect(routeAdminFrame(Buffer.from('{"type":"ping"}'), 32)).toEqual({
      event: UNREADABLE_FRAME,
      data: { binary: true },
    });
    expect(routeAdminFrame('{"type":', 32)).toEqual({
      event: UNREADABLE_FRAME,
      data: { binary: false, code: 'invalid_json', message: 'a message is one JSON object' },
    });
    expect(routeAdminFrame('{"type":"ping","x":[[[]]]}', 3)).toEqual({
      event: UNREADABLE_FRAME,
      data: {
        binary: false,
        code: 'json_too_deep',
        message: 'a message nests deeper than 3 levels (TELEHUB_JSON_MAX_DEPTH)',
      },
    });
  });
});

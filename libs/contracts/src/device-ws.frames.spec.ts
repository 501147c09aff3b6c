import { describe, expect, it } from 'vitest';
import {
  ackFrame,
  errorFrame,
  type HubFrame,
  type OutgoingDeviceFrame,
  parseDeviceFrame,
  parseHubFrame,
} from './device-ws.frames.js';

describe('parseDeviceFrame', () => {
  it('accepts telemetry and state frames with an integer seq, leaving data to ingest', () => {
    expect(parseDeviceFrame('{"type":"telemetry","seq":17,"data":{"temp":1}}')).toEqual({
      ok: true,
      frame: { type: 'telemetry', seq: 17, data: { temp: 1 } },
    });
    expect(parseDeviceFrame('{"type":"state","seq":-3,"data":[1]}')).toEqual({
      ok: true,
      frame: { type: 'state', seq: -3, data: [1] },
    });
    expect(parseDeviceFrame('{"type":"telemetry","seq":0}')).toMatchObject({ ok: true, frame: { data: undefined } });
  });

  it('reports invalid_json without a seq', () => {
    const parsed = parseDeviceFrame('{"type":"telemetry","seq":1');
    expect(parsed).toMatchObject({ ok: false, code: 'invalid_json' });
    expect(parsed).not.toHaveProperty('seq');
  });

  it.each([
    ['[]', undefined],
    ['42', undefined],
    ['null', undefined],
    ['{"type":"telemetry"}', undefined],
    ['{"type":"telemetry","seq":1.5}', undefined],
    ['{"type":"telemetry","seq":"1"}', undefined],
    ['{"type":"telemetry","seq":1e300}', undefined],
    ['{"seq":4}', 4],
    ['{"type":"reboot","seq":5}', 5],
    ['{"type":7,"seq":6}', 6],
  ])('reports invalid_frame for %s (seq %s)', (text, seq) => {
    const parsed = parseDeviceFrame(text);
    expect(parsed).toMatchObject({ ok: false, code: 'invalid_frame' });
    expect((parsed as { seq?: number }).seq).toBe(seq);
  });

  const commandId = '0196a1f2-7c3e-7a00-8000-000000000001';

  it('parses command acknowledgements and results, with or without seq', () => {
    expect(parseDeviceFrame(`{"type":"command_ack","id":"${commandId}"}`)).toEqual({
      ok: true,
      frame: { type: 'command_ack', id: commandId },
    });
    expect(
      parseDeviceFrame(`{"type":"command_result","id":"${commandId}","seq":4,"status":"ok","result":{"uptime":5}}`),
    ).toEqual({
      ok: true,
      frame: { type: 'command_result', id: commandId, seq: 4, payload: { status: 'ok', result: { uptime: 5 } } },
    });
  });

  it('refuses command frames without a command id', () => {
    expect(parseDeviceFrame('{"type":"command_ack","seq":9}')).toMatchObject({
      ok: false,
      code: 'invalid_frame',
      seq: 9,
    });
    expect(parseDeviceFrame('{"type":"command_result","id":"reboot"}')).toMatchObject({
      ok: false,
      code: 'invalid_frame',
      message: expect.stringContaining('"id"'),
    });
  });
});

describe('errorFrame', () => {
  it('omits seq when it is not known', () => {
    expect(JSON.stringify(errorFrame('invalid_json', 'bad'))).toBe(
      '{"type":"error","code":"invalid_json","message":"bad"}',
    );
    expect(errorFrame('invalid_payload', 'bad', 3)).toEqual({
      type: 'error',
      seq: 3,
      code: 'invalid_payload',
      message: 'bad',
    });
  });
});

describe('parseHubFrame', () => {
  const commandId = '0196a1f2-7c3e-7a00-8000-000000000001';

  it('reads what the hub writes: acks, errors and commands', () => {
    for (const frame of [
      ackFrame(17),
      errorFrame('invalid_payload', 'bad', 18),
      errorFrame('command_final', 'done', undefined, commandId),
      { type: 'command', id: commandId, name: 'reboot', params: { now: true }, expiresAt: '2030-01-01T00:00:00.000Z' },
    ] satisfies HubFrame[]) {
      expect(parseHubFrame(JSON.stringify(frame))).toEqual({ ok: true, frame });
    }
  });

  it('ignores fields it does not know, and gives a command without params empty ones', () => {
    expect(parseHubFrame('{"type":"ack","seq":1,"batch":7}')).toEqual({ ok: true, frame: { type: 'ack', seq: 1 } });
    expect(parseHubFrame(`{"type":"command","id":"${commandId}","name":"reboot","expiresAt":"x"}`)).toEqual({
      ok: true,
      frame: { type: 'command', id: commandId, name: 'reboot', params: {}, expiresAt: 'x' },
    });
  });

  it.each([
    ['{"type":"ack"', 'not JSON'],
    ['[1]', 'a frame is a JSON object'],
    ['{"type":"ack","seq":"1"}', 'an ack needs an integer "seq"'],
    ['{"type":"command","name":"reboot","expiresAt":"x"}', 'unreadable command: the command has no "id"'],
    ['{"type":"hello"}', 'unknown frame type "hello"'],
  ])('refuses %s', (text, message) => {
    const parsed = parseHubFrame(text);
    expect(parsed.ok).toBe(false);
    expect((parsed as { message: string }).message).toContain(message);
  });

  it('reads back every frame a device writes as the hub parses it', () => {
    const sent: OutgoingDeviceFrame[] = [
      { type: 'telemetry', seq: 1, data: { temp: 21.5 } },
      { type: 'command_ack', id: commandId },
      { type: 'command_result', id: commandId, seq: 2, status: 'error', error: 'jammed' },
    ];
    expect(sent.map((frame) => parseDeviceFrame(JSON.stringify(frame)))).toEqual([
      { ok: true, frame: { type: 'telemetry', seq: 1, data: { temp: 21.5 } } },
      { ok: true, frame: { type: 'command_ack', id: commandId } },
      {
        ok: true,
        frame: { type: 'command_result', id: commandId, seq: 2, payload: { status: 'error', error: 'jammed' } },
      },
    ]);
  });
});

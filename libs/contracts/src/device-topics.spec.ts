import { describe, expect, it } from 'vitest';
import { classifyDeviceTopic, deviceTopics, OWN_DEVICE_ALIAS } from './device-topics.js';

const ME = '01a1fe90-0005-7395-bee0-9ae2e4a02008';

describe('classifyDeviceTopic', () => {
  it.each([
    [`devices/${ME}/telemetry`, 'telemetry'],
    ['devices/me/telemetry', 'telemetry'],
    [`devices/${ME}/state`, 'state'],
    ['devices/me/commands', 'commands'],
    [`devices/${ME}/commands/c1/result`, 'command_result'],
  ])('allows %s', (topic, kind) => {
    expect(classifyDeviceTopic(topic, ME).kind).toBe(kind);
  });

  it.each([
    'devices/0000-other/telemetry',
    'devices/me/telemetry/extra',
    'devices/me',
    'devices/me/unknown',
    'devices/me/commands//result',
    'sensors/me/telemetry',
    'devices/+/telemetry',
    '',
  ])('forbids %s', (topic) => {
    expect(classifyDeviceTopic(topic, ME).kind).toBe('forbidden');
  });
});

describe('deviceTopics', () => {
  it.each([ME, OWN_DEVICE_ALIAS])('builds the topics the hub allows the device (%s)', (id) => {
    expect(deviceTopics.telemetry(id)).toBe(`devices/${id}/telemetry`);
    expect(classifyDeviceTopic(deviceTopics.telemetry(id), ME)).toEqual({ kind: 'telemetry' });
    expect(classifyDeviceTopic(deviceTopics.state(id), ME)).toEqual({ kind: 'state' });
    expect(classifyDeviceTopic(deviceTopics.commands(id), ME)).toEqual({ kind: 'commands' });
    expect(deviceTopics.commandResult(id, 'c1')).toBe(`devices/${id}/commands/c1/result`);
    expect(classifyDeviceTopic(deviceTopics.commandResult(id, 'c1'), ME)).toEqual({
      kind: 'command_result',
      commandId: 'c1',
    });
  });
});

import { describe, expect, it } from 'vitest';
import { classifyDeviceTopic } from './device-topics.js';

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

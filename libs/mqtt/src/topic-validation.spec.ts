import { describe, expect, it } from 'vitest';
import { hasWildcard, isSharedSubscription, isValidTopicFilter, isValidTopicName } from './topic-validation.js';

describe('topic validation', () => {
  it.each([
    ['devices/1/telemetry', true],
    ['/', true],
    ['', false],
    ['devices/+/telemetry', false],
    ['devices/#', false],
    ['a\u0000b', false],
  ])('topic name %j valid: %s', (topic, valid) => {
    expect(isValidTopicName(topic)).toBe(valid);
  });

  it.each([
    ['devices/1/commands', true],
    ['devices/+/commands', true],
    ['#', true],
    ['devices/#', true],
    ['+', true],
    ['', false],
    ['devices/#/x', false],
    ['devices/a#', false],
    ['devices/a+/x', false],
    ['a\u0000', false],
  ])('topic filter %j valid: %s', (filter, valid) => {
    expect(isValidTopicFilter(filter)).toBe(valid);
  });

  it('spots wildcards and shared subscriptions', () => {
    expect(hasWildcard('a/+/b')).toBe(true);
    expect(hasWildcard('a/b')).toBe(false);
    expect(isSharedSubscription('$share/group/a')).toBe(true);
    expect(isSharedSubscription('$SYS/a')).toBe(false);
  });
});

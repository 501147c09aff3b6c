/** A PUBLISH topic: at least one character [MQTT-4.7.3-1], no wildcards [MQTT-3.3.2-2], no U+0000 [MQTT-4.7.3-2]. */
export function isValidTopicName(topic: string): boolean {
  return topic.length > 0 && !topic.includes('+') && !topic.includes('#') && !topic.includes('\u0000');
}

/**
 * A SUBSCRIBE filter: at least one character [MQTT-4.7.3-1], no U+0000 [MQTT-4.7.3-2], '#' only as the whole last
 * level [MQTT-4.7.1-2], '+' only as a whole level [MQTT-4.7.1-3].
 */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((level, index) => {
    if (level.includes('#')) return level === '#' && index === levels.length - 1;
    return !level.includes('+') || level === '+';
  });
}

export function hasWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

/** MQTT 5 shared subscription, section 4.8.2. */
export function isSharedSubscription(filter: string): boolean {
  return filter.startsWith('$share/');
}

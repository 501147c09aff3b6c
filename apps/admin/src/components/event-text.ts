/** What device events say to a person: a title, a tone, and one line with the reason. */
export type Tone = 'ok' | 'muted' | 'warn' | 'danger' | 'info';

export const TITLES: Record<string, [string, Tone]> = {
  connected: ['Connected', 'ok'],
  disconnected: ['Disconnected', 'muted'],
  auth_failed: ['Authentication failed', 'danger'],
  message_rejected: ['Message rejected', 'warn'],
  rate_limited: ['Rate limited', 'warn'],
  connect_rate_limited: ['Connecting too often', 'warn'],
  command_reply_refused: ['Command reply refused', 'warn'],
  command_queued: ['Command queued', 'muted'],
  command_sent: ['Command sent', 'info'],
  command_delivered: ['Command delivered', 'info'],
  command_succeeded: ['Command succeeded', 'ok'],
  command_failed: ['Command failed', 'danger'],
  command_expired: ['Command expired', 'warn'],
  command_cancelled: ['Command cancelled', 'muted'],
};

/** snake_case codes from the hub ("keepalive_timeout") as words ("keepalive timeout"). */
export function humanize(code: string): string {
  const words = code.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The one line that says what happened and why. */
export function describeEvent(type: string, detail: Record<string, unknown>): string {
  switch (type) {
    case 'connected':
      return [
        text(detail.transport) && `over ${text(detail.transport)}`,
        text(detail.node) && `on ${text(detail.node)}`,
      ]
        .filter(Boolean)
        .join(' ');
    case 'disconnected':
      return [
        text(detail.reason) && humanize(String(detail.reason)),
        text(detail.transport) && `(${text(detail.transport)})`,
      ]
        .filter(Boolean)
        .join(' ');
    case 'auth_failed':
      return [
        text(detail.reason) && humanize(String(detail.reason)),
        text(detail.transport) && `over ${text(detail.transport)}`,
      ]
        .filter(Boolean)
        .join(' ');
    case 'message_rejected':
    case 'command_reply_refused':
      return [text(detail.code), text(detail.message)].filter(Boolean).join(': ');
    case 'command_queued':
    case 'command_sent':
    case 'command_delivered':
    case 'command_succeeded':
    case 'command_failed':
    case 'command_expired':
    case 'command_cancelled':
      return [text(detail.name), text(detail.error)].filter(Boolean).join(': ');
    case 'rate_limited':
      return detail.ratePerSec ? `over ${text(detail.ratePerSec)} messages/s` : '';
    case 'connect_rate_limited':
      return [
        detail.ratePerSec && `more than ${text(detail.ratePerSec)} connections/s`,
        text(detail.transport) && `(${text(detail.transport)})`,
      ]
        .filter(Boolean)
        .join(' ');
    default:
      return Object.entries(detail)
        .map(([key, value]) => `${key}: ${text(value)}`)
        .join(', ');
  }
}

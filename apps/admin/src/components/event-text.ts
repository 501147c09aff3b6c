/** What device events say to a person: a title, a tone, and one line with the reason. */
export type Tone = 'ok' | 'muted' | 'warn' | 'danger' | 'info';

export const TITLES: Record<string, [string, Tone]> = {
  connected: ['Connected', 'ok'],
  disconnected: ['Disconnected', 'muted'],
  active: ['Active', 'ok'],
  inactive: ['Inactive', 'warn'],
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

/** "12 short connections": the title of a `short_sessions` entry. */
export function eventTitle(type: string, detail: Record<string, unknown>): [string, Tone] {
  if (type === 'short_sessions') {
    const count = typeof detail.count === 'number' ? detail.count : 0;
    return [`${count.toLocaleString()} short connections`, 'ok'];
  }
  return TITLES[type] ?? [humanize(type), 'info'];
}

/** "45 s", "1 min 30 s", "2 h 5 min", "3 days": a span of time for people. */
export function formatSpan(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) {
    const rest = seconds % 60;
    return `${Math.floor(seconds / 60)} min${rest ? ` ${rest} s` : ''}`;
  }
  const minutes = Math.round(seconds / 60);
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  return `${Math.round(hours / 24)} days`;
}

/** The one line that says what happened and why. */
export function describeEvent(type: string, detail: Record<string, unknown>): string {
  switch (type) {
    case 'short_sessions': {
      const from = typeof detail.from === 'string' ? Date.parse(detail.from) : Number.NaN;
      const to = typeof detail.to === 'string' ? Date.parse(detail.to) : Number.NaN;
      const transports = Array.isArray(detail.transports) ? detail.transports.join(', ') : '';
      const reasons = Object.entries((detail.reasons ?? {}) as Record<string, number>)
        .sort(([, a], [, b]) => b - a)
        .map(([reason, count]) => `${humanize(reason).toLowerCase()} ×${count}`)
        .join(', ');
      return [
        Number.isFinite(from) && Number.isFinite(to) ? `in ${formatSpan(to - from)}` : undefined,
        transports && `over ${transports}`,
        typeof detail.shortSessionMs === 'number' ? `each under ${formatSpan(detail.shortSessionMs)}` : undefined,
        reasons,
      ]
        .filter(Boolean)
        .join(' · ');
    }
    case 'active':
      return detail.reason === 'connected'
        ? ['connected', text(detail.transport) && `over ${text(detail.transport)}`].filter(Boolean).join(' ')
        : 'heard from without a connection (HTTP, or a short session)';
    case 'inactive':
      return typeof detail.timeoutSeconds === 'number'
        ? `nothing heard for ${formatSpan(detail.timeoutSeconds * 1000)} (its inactivity timeout)`
        : humanize(String(detail.reason ?? 'inactivity_timeout'));
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

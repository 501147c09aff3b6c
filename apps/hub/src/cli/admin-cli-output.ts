import type { AdminTokenInfo, IssuedAdminToken } from '@telehub/contracts';

/** What `token create` prints: the token's record, then its secret on a line of its own (this once). */
export function formatCreated(token: IssuedAdminToken): string {
  const expiry = token.expiresAt ? `expires ${token.expiresAt}` : 'does not expire';
  return (
    `Created admin token "${token.name}" (role ${token.role}, ${expiry}, id ${token.id}).\n` +
    'Its secret is shown this once; store it now:\n\n' +
    `${token.token}\n`
  );
}

export function formatRevoked(token: AdminTokenInfo): string {
  return `Revoked admin token "${token.name}" (id ${token.id}, role ${token.role}) at ${token.revokedAt}.\n`;
}

/** `token list`: one row per token, in columns. */
export function formatTokenTable(tokens: AdminTokenInfo[], now = Date.now()): string {
  if (tokens.length === 0) return 'No admin tokens.\n';
  const header = ['ID', 'NAME', 'ROLE', 'SOURCE', 'HINT', 'CREATED', 'LAST USED', 'EXPIRES', 'STATUS'];
  const rows = tokens.map((token) => [
    token.id,
    token.name,
    token.role,
    token.source,
    token.hint,
    minute(token.createdAt),
    minute(token.lastUsedAt) || 'never',
    minute(token.expiresAt) || 'never',
    statusOf(token, now),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return `${[header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function statusOf(token: AdminTokenInfo, now: number): string {
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt && Date.parse(token.expiresAt) <= now) return 'expired';
  return 'active';
}

/** `2026-12-07T14:30:05.123Z` → `2026-12-07 14:30Z`: enough to tell tokens apart in a terminal. */
function minute(time: string | null): string {
  return time ? `${time.slice(0, 10)} ${time.slice(11, 16)}Z` : '';
}

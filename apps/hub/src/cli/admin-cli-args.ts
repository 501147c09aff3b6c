import { parseArgs } from 'node:util';
import { ADMIN_ROLES, type AdminRole, AdminTokenNameSchema, isAdminRole } from '@telehub/contracts';
import { parseExpiresOption } from '../admin-tokens/admin-token-expiry.js';

export type AdminCliCommand =
  | { kind: 'help' }
  | {
      kind: 'create';
      name: string;
      role: AdminRole;
      expires: { expiresInSeconds: number } | { expiresAt: string } | undefined;
      json: boolean;
    }
  | { kind: 'list'; json: boolean }
  | { kind: 'revoke'; token: string; json: boolean };

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const ADMIN_CLI_USAGE = `Usage: admin token <command> [options]

Manage the hub's admin tokens in its database directly (DATABASE_URL, or the embedded database in
TELEHUB_DATA_DIR), with or without the hub running.

Commands:
  token create --name <name> --role <${ADMIN_ROLES.join('|')}> [--expires <when>]
                            Make a token; its secret is printed this once.
                            <when>: a duration (90m, 12h, 30d, 8w) or an RFC 3339 time.
  token list                Every token: id, name, role, source, hint, created, last used, expiry, status.
  token revoke <id|name>    Revoke a token: it stops working at once, and its admin WebSocket
                            connections are closed.

Options:
  --json                    Print JSON instead of text.
  -h, --help                Show this.

Roles: viewer reads everything; operator also sends and cancels commands; admin also provisions
devices and manages admin tokens.

Examples:
  npm run admin -- token create --name ops --role admin --expires 30d
  node dist/apps/hub/src/cli/admin.js token list          (in the Docker image)`;

/** Reads the CLI's arguments (after `node admin.js`); throws UsageError naming what is wrong. */
export function parseAdminCliArgs(argv: string[]): AdminCliCommand {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return { kind: 'help' };
  const [group, command, ...rest] = positionals;
  if (group !== 'token') throw new UsageError(`unknown command "${group}": the commands are under "token"`);
  const json = values.json ?? false;
  switch (command) {
    case 'create': {
      noMore(rest);
      const name = AdminTokenNameSchema.safeParse(values.name ?? '');
      if (values.name === undefined) throw new UsageError('token create needs --name <name>');
      if (!name.success) throw new UsageError(`--name: ${name.error.issues[0]?.message}`);
      if (values.role === undefined) throw new UsageError(`token create needs --role <${ADMIN_ROLES.join('|')}>`);
      if (!isAdminRole(values.role)) {
        throw new UsageError(`--role must be one of ${ADMIN_ROLES.join(', ')}, not "${values.role}"`);
      }
      let expires: { expiresInSeconds: number } | { expiresAt: string } | undefined;
      if (values.expires !== undefined) {
        expires = parseExpiresOption(values.expires);
        if (!expires) {
          throw new UsageError(
            `--expires takes a duration like 30d, 12h, 90m, 8w or an RFC 3339 time, not "${values.expires}"`,
          );
        }
      }
      return { kind: 'create', name: name.data, role: values.role, expires, json };
    }
    case 'list':
      noMore(rest);
      onlyJson(values);
      return { kind: 'list', json };
    case 'revoke': {
      onlyJson(values);
      const [token, ...extra] = rest;
      if (token === undefined) throw new UsageError('token revoke needs the id or name of a token');
      noMore(extra);
      return { kind: 'revoke', token, json };
    }
    case undefined:
      throw new UsageError('token needs a command: create, list or revoke');
    default:
      throw new UsageError(`unknown command "token ${command}": create, list or revoke`);
  }
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      role: { type: 'string' },
      expires: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function noMore(extra: string[]): void {
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
}

function onlyJson(values: { name?: string; role?: string; expires?: string }): void {
  const misplaced = (['name', 'role', 'expires'] as const).find((option) => values[option] !== undefined);
  if (misplaced) throw new UsageError(`--${misplaced} belongs to token create`);
}

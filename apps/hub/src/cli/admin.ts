import 'reflect-metadata';
import { AdminTokenRepository } from '@telehub/db';
import { resolveExpiry } from '../admin-tokens/admin-token-expiry.js';
import { AdminTokensService } from '../admin-tokens/admin-tokens.service.js';
import { ApiError } from '../common/api-error.js';
import { ConfigError, loadConfig } from '../config/hub-config.js';
import { ADMIN_CLI_USAGE, type AdminCliCommand, parseAdminCliArgs, UsageError } from './admin-cli-args.js';
import { formatCreated, formatRevoked, formatTokenTable } from './admin-cli-output.js';
import { openCliDatabase } from './cli-database.js';

/**
 * `npm run admin -- token …` / `node dist/apps/hub/src/cli/admin.js token …`: admin tokens without the API,
 * straight in the hub's database, with the hub's own settings (the same environment variables) and the same
 * rules as the REST API (AdminTokensService). Exit codes: 0 done, 1 refused or failed, 2 wrong usage.
 */
async function main(argv: string[]): Promise<number> {
  let command: AdminCliCommand;
  try {
    command = parseAdminCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`admin: ${error.message}\n\n${ADMIN_CLI_USAGE}\n`);
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(`${ADMIN_CLI_USAGE}\n`);
    return 0;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`admin: ${error.message}\n`);
    return 1;
  }
  const database = await openCliDatabase(config);
  try {
    const tokens = new AdminTokensService(new AdminTokenRepository(database.client));
    process.stdout.write(await run(command, tokens));
    return 0;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    process.stderr.write(`admin: ${error.detail ?? error.title} (${error.code})\n`);
    return 1;
  } finally {
    await database.close();
  }
}

async function run(command: Exclude<AdminCliCommand, { kind: 'help' }>, tokens: AdminTokensService): Promise<string> {
  switch (command.kind) {
    case 'create': {
      const expiry = resolveExpiry(command.expires ?? {});
      if (!expiry.ok) throw new ApiError(400, 'validation_failed', 'Invalid expiry', `--expires ${expiry.message}`);
      const created = await tokens.create(
        { name: command.name, role: command.role, expiresAt: expiry.expiresAt },
        'cli',
      );
      return command.json ? `${JSON.stringify(created)}\n` : formatCreated(created);
    }
    case 'list': {
      const list = await tokens.list();
      return command.json ? `${JSON.stringify(list)}\n` : formatTokenTable(list);
    }
    case 'revoke': {
      const target = await tokens.find(command.token);
      const revoked = await tokens.revoke(target.id);
      return command.json ? `${JSON.stringify(revoked)}\n` : formatRevoked(revoked);
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`admin: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

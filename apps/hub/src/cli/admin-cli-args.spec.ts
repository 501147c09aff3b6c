import { describe, expect, it } from 'vitest';
import { parseAdminCliArgs, UsageError } from './admin-cli-args.js';

const args = (line: string) => line.split(' ').filter(Boolean);

describe('parseAdminCliArgs', () => {
  it('reads token create with name, role, expiry and --json', () => {
    expect(parseAdminCliArgs(args('token create --name ops --role admin --expires 30d'))).toEqual({
      kind: 'create',
      name: 'ops',
      role: 'admin',
      expires: { expiresInSeconds: 30 * 86_400 },
      json: false,
    });
    expect(parseAdminCliArgs(['token', 'create', '--name', 'wall display', '--role', 'viewer', '--json'])).toEqual({
      kind: 'create',
      name: 'wall display',
      role: 'viewer',
      expires: undefined,
      json: true,
    });
  });

  it('reads token list and token revoke <id|name>', () => {
    expect(parseAdminCliArgs(args('token list'))).toEqual({ kind: 'list', json: false });
    expect(parseAdminCliArgs(args('token revoke ops --json'))).toEqual({ kind: 'revoke', token: 'ops', json: true });
  });

  it('shows help without arguments or with --help', () => {
    expect(parseAdminCliArgs([])).toEqual({ kind: 'help' });
    expect(parseAdminCliArgs(args('token create --help'))).toEqual({ kind: 'help' });
  });

  it.each([
    ['token create --role admin', /needs --name/],
    ['token create --name ops', /needs --role/],
    ['token create --name ops --role root', /--role must be one of viewer, operator, admin/],
    ['token create --name ops --role admin --expires soon', /--expires takes a duration/],
    ['token create --name ops --role admin --colour red', /Unknown option '--colour'/],
    ['token revoke', /needs the id or name/],
    ['token revoke a b', /unexpected argument "b"/],
    ['token list --role admin', /--role belongs to token create/],
    ['token rotate', /unknown command "token rotate"/],
    ['device list', /unknown command "device"/],
    ['token', /needs a command/],
  ])('refuses %j', (line, message) => {
    expect(() => parseAdminCliArgs(args(line))).toThrowError(message);
    expect(() => parseAdminCliArgs(args(line))).toThrowError(UsageError);
  });

  it('refuses a name with a control character', () => {
    expect(() => parseAdminCliArgs(['token', 'create', '--name', 'a\u0007b', '--role', 'admin'])).toThrowError(
      /--name: must not contain control characters/,
    );
  });
});

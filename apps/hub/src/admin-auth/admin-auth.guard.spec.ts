import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AdminRole } from '@telehub/contracts';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AuthThrottle } from '../auth/auth-throttle.js';
import { ApiError } from '../common/api-error.js';
import type { HubConfig } from '../config/hub-config.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { AdminAuthGuard } from './admin-auth.guard.js';
import { type AdminTokenCheck, requestIdentity } from './admin-identity.js';
import type { AdminTokenService } from './admin-token.service.js';
import { Public } from './public.decorator.js';
import { RequiresRole } from './requires-role.decorator.js';

class Routes {
  @Public()
  health() {}
  @RequiresRole('viewer')
  read() {}
  @RequiresRole('operator')
  command() {}
  @RequiresRole('admin')
  provision() {}
  undecided() {}
}

/** A token service that knows one token per role, "tha_<role>", and counts its lookups. */
let lookups = 0;
const tokens = {
  async verify(token: string): Promise<AdminTokenCheck> {
    lookups += 1;
    const role = token.replace(/^tha_/, '') as AdminRole;
    if (!['viewer', 'operator', 'admin'].includes(role)) return { ok: false, refusal: 'unknown' };
    return { ok: true, identity: { tokenId: role, name: `${role} token`, role, source: 'api', expiresAt: null } };
  },
} as AdminTokenService;

/** A real throttle; burst 0 turns it off (the default here, so role checks are not throttled). */
function throttle(failureBurst = 0): AuthThrottle {
  const auth = { failureBurst, failureRatePerSec: 0.001, throttleMaxAddresses: 100 };
  return new AuthThrottle({ auth } as HubConfig, new HubMetrics());
}

function contextFor(handler: keyof Routes, authorization?: string, remoteAddress = '192.0.2.1') {
  const request = { headers: authorization ? { authorization } : {}, socket: { remoteAddress } };
  const context = {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return { context, request };
}

async function outcome(handler: keyof Routes, token?: string): Promise<number> {
  const logged: string[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => logged.push(line) });
  const guard = new AdminAuthGuard(new Reflector(), tokens, throttle(), logger);
  try {
    return (await guard.canActivate(contextFor(handler, token ? `Bearer ${token}` : undefined).context)) ? 200 : 0;
  } catch (error) {
    return (error as ApiError).status;
  }
}

describe('AdminAuthGuard', () => {
  it('lets every role through up to its own, and answers 403 above it', async () => {
    const table: Record<string, number[]> = {};
    for (const handler of ['read', 'command', 'provision'] as const) {
      table[handler] = [];
      for (const role of ['viewer', 'operator', 'admin']) table[handler].push(await outcome(handler, `tha_${role}`));
    }
    expect(table).toEqual({ read: [200, 200, 200], command: [403, 200, 200], provision: [403, 403, 200] });
  });

  it('answers 401 before any role check: no token, or one that does not work', async () => {
    expect(await outcome('read')).toBe(401);
    expect(await outcome('provision', 'tha_nobody')).toBe(401);
    expect(await outcome('undecided')).toBe(401);
  });

  it('refuses a route without a role decision to every token, even an admin, and logs it once', async () => {
    const logged: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => logged.push(line) });
    const guard = new AdminAuthGuard(new Reflector(), tokens, throttle(), logger);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      await expect(guard.canActivate(contextFor('undecided', 'Bearer tha_admin').context)).rejects.toMatchObject({
        status: 403,
        code: 'forbidden',
      });
    }
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0]!)).toMatchObject({ route: 'Routes.undecided' });
  });

  it('lets a @Public() route through without a token, and records the identity of an authorised one', async () => {
    expect(await outcome('health')).toBe(200);
    const guard = new AdminAuthGuard(new Reflector(), tokens, throttle(), pino({ level: 'silent' }));
    const { context, request } = contextFor('command', 'Bearer tha_operator');
    expect(await guard.canActivate(context)).toBe(true);
    expect(requestIdentity(request as never)).toMatchObject({ role: 'operator', name: 'operator token' });
  });

  it('says in a 403 which role is needed and which the token has', async () => {
    const guard = new AdminAuthGuard(new Reflector(), tokens, throttle(), pino({ level: 'silent' }));
    const refusal = await guard
      .canActivate(contextFor('provision', 'Bearer tha_viewer').context)
      .catch((error) => error);
    expect(refusal).toBeInstanceOf(ApiError);
    expect(refusal.detail).toBe('this needs the admin role; the admin token "viewer token" has the viewer role');
  });

  it('counts every refused token against its address, and refuses it with 429 before a lookup once over budget', async () => {
    const guard = new AdminAuthGuard(new Reflector(), tokens, throttle(2), pino({ level: 'silent' }));
    const status = (token: string, address: string) =>
      guard.canActivate(contextFor('read', `Bearer ${token}`, address).context).then(
        () => 200,
        (error: ApiError) => error.status,
      );
    lookups = 0;
    expect([await status('tha_nobody', '192.0.2.7'), await status('tha_nobody', '192.0.2.7')]).toEqual([401, 401]);
    expect(lookups).toBe(2);
    const refusal = await guard
      .canActivate(contextFor('read', 'Bearer tha_admin', '192.0.2.7').context)
      .catch((error: ApiError) => error);
    expect(refusal).toMatchObject({
      status: 429,
      code: 'auth_throttled',
      headers: { 'Retry-After': expect.any(String) },
    });
    expect(lookups).toBe(2);
    // Another address is not affected, and a valid token costs nothing.
    expect(await status('tha_admin', '192.0.2.8')).toBe(200);
    expect(await status('tha_admin', '192.0.2.8')).toBe(200);
    expect(await status('tha_admin', '192.0.2.8')).toBe(200);
  });
});

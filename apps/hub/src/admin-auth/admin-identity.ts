import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AdminRole, AdminTokenSource } from '@telehub/contracts';
import type { Request } from 'express';

/** Who holds an admin token: the token's record, without its secret. */
export interface AdminIdentity {
  tokenId: string;
  name: string;
  role: AdminRole;
  source: AdminTokenSource;
  expiresAt: Date | null;
}

/** Why a token was refused; each is a 401. */
export type AdminTokenRefusal = 'unknown' | 'revoked' | 'expired';

export type AdminTokenCheck = { ok: true; identity: AdminIdentity } | { ok: false; refusal: AdminTokenRefusal };

const IDENTITY = Symbol('telehub.adminIdentity');

type RequestWithIdentity = Request & { [IDENTITY]?: AdminIdentity };

/** The guard records whose token authenticated the request. */
export function setRequestIdentity(request: Request, identity: AdminIdentity): void {
  (request as RequestWithIdentity)[IDENTITY] = identity;
}

export function requestIdentity(request: Request): AdminIdentity | undefined {
  return (request as RequestWithIdentity)[IDENTITY];
}

/** The identity of the admin token that authenticated this request (routes that are not @Public()). */
export const CurrentAdmin = createParamDecorator((_data: unknown, context: ExecutionContext): AdminIdentity => {
  const identity = requestIdentity(context.switchToHttp().getRequest<Request>());
  if (!identity) throw new Error('@CurrentAdmin() on a route the admin guard did not authenticate');
  return identity;
});

import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { AdminRole } from '@telehub/contracts';
import { ProblemResponses } from '../openapi/problem-responses.decorator.js';

export const REQUIRED_ROLE = 'telehub:requiredRole';

/**
 * The least role an admin token needs for this route (admin ⊃ operator ⊃ viewer). Every route that is not
 * @Public() must say one: the guard refuses a route without a decision, whatever the token.
 * The OpenAPI document shows it as `x-telehub-role`, and the 403 a weaker token gets.
 */
export function RequiresRole(role: AdminRole) {
  const decorators = [SetMetadata(REQUIRED_ROLE, role), ApiExtension('x-telehub-role', role)];
  if (role !== 'viewer') {
    decorators.push(ProblemResponses([403, `\`forbidden\`: needs an admin token with the ${role} role`]));
  }
  return applyDecorators(...decorators);
}

import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ProblemDetailsSchema } from '@telehub/contracts';

const descriptions: Record<number, string> = {
  400: 'Invalid input; `errors` lists the offending fields',
  401: 'Missing, unknown, revoked or expired bearer token',
  403: "The admin token's role does not allow this (`forbidden`)",
  404: 'No such resource',
  409: 'Conflict with the current state',
  413: 'Request body too large',
  429: 'Too many requests or a limit reached',
};

/**
 * Documents the Problem Details error responses a route can give: a status alone takes the common
 * description; `[status, description]` says what that status means on this route. Swagger files the schema
 * under the route's JSON media type; documentMediaTypes() moves it to `application/problem+json`.
 */
export function ProblemResponses(...responses: (number | [status: number, description: string])[]) {
  return applyDecorators(
    ...responses.map((response) => {
      const [status, description] = typeof response === 'number' ? [response, descriptions[response]] : response;
      return ApiResponse({ status, description: description ?? 'Error', standardSchema: ProblemDetailsSchema });
    }),
  );
}

import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE, ProblemDetailsSchema } from '@telehub/contracts';
import { openApiSchema } from './zod-openapi.js';

const descriptions: Record<number, string> = {
  400: 'Invalid input; `errors` lists the offending fields',
  401: 'Missing or invalid bearer token',
  404: 'No such resource',
  409: 'Conflict with the current state',
  413: 'Request body too large',
  429: 'Too many requests or a limit reached',
};

/** Documents the Problem Details error responses a route can give. */
export function ProblemResponses(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: descriptions[status] ?? 'Error',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: openApiSchema(ProblemDetailsSchema) } },
      }),
    ),
  );
}

import { getSchemaPath, type OpenAPIObject } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from '@telehub/contracts';

type Content = Record<string, Record<string, unknown>>;
interface Operation {
  requestBody?: { content?: Content };
  responses?: Record<string, { content?: Content }>;
}

const CSV = 'text/csv';
const CSV_TEXT = { schema: { type: 'string', description: 'CSV text (RFC 4180) with a header row' } };
const PROBLEM_REF = getSchemaPath('ProblemDetails');

/**
 * @nestjs/swagger puts a route's schema under every media type the route consumes or produces (@ApiConsumes,
 * @ApiProduces; JSON by default): one set per operation. Two things it cannot say are put right here, once over
 * the document:
 * - a Problem Details answer (ProblemResponses) is `application/problem+json` (ProblemDetailsFilter), whatever
 *   else the route produces;
 * - CSV beside JSON (a bulk body, `Accept: text/csv`, `format=csv`) is text, not the JSON schema.
 */
export function documentMediaTypes(document: OpenAPIObject): void {
  for (const methods of Object.values(document.paths)) {
    for (const operation of Object.values(methods as Record<string, Operation>)) {
      const body = operation?.requestBody?.content;
      if (body?.[CSV]) body[CSV] = CSV_TEXT;
      for (const response of Object.values(operation?.responses ?? {})) {
        const content = response.content;
        if (!content) continue;
        const [first] = Object.values(content);
        if (first && (first.schema as { $ref?: string } | undefined)?.$ref === PROBLEM_REF) {
          response.content = { [PROBLEM_CONTENT_TYPE]: first };
        } else if (content[CSV]) {
          content[CSV] = CSV_TEXT;
        }
      }
    }
  }
}

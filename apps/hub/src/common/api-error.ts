import type { ProblemDetails } from '@telehub/contracts';

export interface FieldError {
  field: string;
  message: string;
}

/**
 * An error with a stable code that the exception filter turns into RFC 9457 Problem Details.
 * Services throw these; controllers stay free of status-code logic.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail ?? title);
    this.name = 'ApiError';
  }

  toProblem(instance?: string): ProblemDetails {
    return {
      type: `https://telehub.dev/problems/${this.code.replaceAll('_', '-')}`,
      title: this.title,
      status: this.status,
      code: this.code,
      ...(this.detail ? { detail: this.detail } : {}),
      ...(instance ? { instance } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }

  static validation(errors: FieldError[]): ApiError {
    const detail = errors.map((error) => `${error.field}: ${error.message}`).join('; ');
    return new ApiError(400, 'validation_failed', 'Request validation failed', detail, errors);
  }

  static notFound(code: string, detail: string): ApiError {
    return new ApiError(404, code, 'Not found', detail);
  }

  static unauthorized(detail: string): ApiError {
    return new ApiError(401, 'unauthorized', 'Unauthorized', detail, undefined, { 'WWW-Authenticate': 'Bearer' });
  }

  /** The token works, but its role does not allow this (RFC 9110 §15.5.4). */
  static forbidden(detail: string): ApiError {
    return new ApiError(403, 'forbidden', 'Forbidden', detail);
  }
}

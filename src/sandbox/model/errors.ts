/**
 * A failure the API reports to its caller. `code` is the service's own error name
 * (EKS: 'ResourceNotFoundException'; ELBv2: 'TargetGroupNotFound'); protocol handlers choose
 * the envelope. The model throws these and nothing else for caller mistakes.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

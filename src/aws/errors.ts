import { RunbookError, isAbortError, isRunbookError } from '../errors.js';

/** The SDK's error name (`ResourceNotFoundException`, `Throttling`, …) or undefined. */
export function awsErrorName(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  // A RunbookError made by toRunbookError keeps the SDK error as its cause.
  if (isRunbookError(e)) return e.cause === undefined ? undefined : awsErrorName(e.cause);
  const code = (e as { Code?: unknown }).Code;
  if (typeof code === 'string' && code !== '') return code;
  return e.name;
}

export function isAwsError(e: unknown, ...names: string[]): boolean {
  const name = awsErrorName(e);
  return name !== undefined && names.includes(name);
}

export function isNotFound(e: unknown): boolean {
  return isAwsError(
    e,
    'ResourceNotFoundException',
    'NotFoundException',
    'TargetGroupNotFound',
    'TargetGroupNotFoundException',
    'LoadBalancerNotFound',
    'LoadBalancerNotFoundException',
    'ListenerNotFound',
    'ListenerNotFoundException',
    'RuleNotFound',
    'RuleNotFoundException',
  );
}

const THROTTLING = ['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded'];
export function isThrottling(e: unknown): boolean {
  return isAwsError(e, ...THROTTLING);
}

const CREDENTIAL_ERRORS = [
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
];

function isMissingRegion(e: unknown): boolean {
  return e instanceof Error && /region is missing/i.test(e.message);
}

/**
 * Turns an SDK error into one the operator can act on. Abort errors and RunbookErrors pass
 * through untouched so Ctrl-C stays Ctrl-C. `action` names the call: "DescribeCluster prod-eu".
 */
export function toRunbookError(e: unknown, action: string): unknown {
  if (isRunbookError(e) || isAbortError(e)) return e;
  const name = awsErrorName(e) ?? 'Error';
  const msg = e instanceof Error ? e.message : String(e);
  if (CREDENTIAL_ERRORS.includes(name)) {
    return new RunbookError('AWS_CREDENTIALS', `${action}: no usable AWS credentials (${name}: ${msg})`, {
      cause: e,
      hint: 'Log in (aws sso login, or export AWS_PROFILE / AWS_ACCESS_KEY_ID), or pass --profile; then run again.',
    });
  }
  if (isMissingRegion(e)) {
    return new RunbookError('AWS_CREDENTIALS', `${action}: no AWS region configured`, {
      cause: e,
      hint: 'Pass --region (or set AWS_REGION) and run again.',
    });
  }
  if (isAwsError(e, 'AccessDenied', 'AccessDeniedException')) {
    return new RunbookError('AWS_ERROR', `${action}: access denied (${msg})`, {
      cause: e,
      hint: 'The identity shown in preflight lacks this permission; use a role that has it (see docs/authoring.md for the list).',
    });
  }
  if (isThrottling(e)) {
    return new RunbookError('AWS_ERROR', `${action}: throttled by AWS even after retries (${msg})`, {
      cause: e,
      hint: 'Another tool is spending the same API budget; wait a minute and resume the run.',
    });
  }
  return new RunbookError('AWS_ERROR', `${action}: ${name}: ${msg}`, {
    cause: e,
    hint: 'Check the message above; resume the run once the cause is fixed.',
  });
}

/** Await an AWS call and rethrow its failure as a RunbookError naming the action. */
export async function awsCall<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw toRunbookError(e, action);
  }
}

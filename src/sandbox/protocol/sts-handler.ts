import { ApiError } from '../model/errors.js';
import { decodeQuery } from './query.js';
import type { ErrorEncoder, ResolvedCall, WireRequest } from './types.js';
import { queryError, queryResponse } from './xml.js';

const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

export const stsErrors: ErrorEncoder = {
  error(code, message, status, requestId) {
    return { status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: queryError(STS_NAMESPACE, status >= 500 ? 'Receiver' : 'Sender', code, message, requestId) };
  },
};

/** STS GetCallerIdentity: who the caller acts as, so tools can show the account before mutating. */
export function resolveSts(req: WireRequest): ResolvedCall {
  const { action } = decodeQuery(req.body);
  return {
    service: 'sts',
    operation: action || '(none)',
    mutating: false,
    throttled: false,
    params: {},
    run({ world, requestId }) {
      if (action !== 'GetCallerIdentity') throw new ApiError('InvalidAction', `The sandbox's STS implements GetCallerIdentity only, not ${action || '(none)'}`);
      const result = { UserId: 'AIDASANDBOXEXAMPLE0001', Account: world.accountId, Arn: `arn:aws:iam::${world.accountId}:user/sandbox-operator` };
      return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: queryResponse(STS_NAMESPACE, action, result, requestId) };
    },
  };
}

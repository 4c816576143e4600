import type { ScaledClock } from '../clock.js';
import type { World } from '../model/types.js';

/** What a protocol handler sees of an HTTP request (body already read). */
export interface WireRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A request understood: which operation it is, before anything runs (throttling and the journal need that). */
export interface ResolvedCall {
  service: 'eks' | 'elasticloadbalancing' | 'sts' | 'kubernetes';
  operation: string;
  mutating: boolean;
  /** Read calls subject to the throttling token bucket. */
  throttled: boolean;
  params: unknown;
  run(ctx: HandlerContext): WireResponse;
}

export interface HandlerContext {
  world: World;
  clock: ScaledClock;
  requestId: string;
  /** Base URL of this server, e.g. http://127.0.0.1:PORT. */
  endpoint: string;
}

/** Per-service error envelopes. */
export interface ErrorEncoder {
  error(code: string, message: string, status: number, requestId: string, fields?: Record<string, string>): WireResponse;
}

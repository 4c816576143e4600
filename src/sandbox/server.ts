import { randomUUID } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isoUtc, type Clock } from '../ports/clock.js';
import { RunbookError } from '../errors.js';
import type { ScaledClock } from './clock.js';
import { faultSettingsSchema, nextRandom, TokenBucket, type FaultSettings } from './faults.js';
import type { FaultRecord, JournalEntry } from './journal.js';
import { isApiError } from './model/errors.js';
import type { FaultRecordData, World } from './model/types.js';
import { advance, applyFaultSettings } from './model/world.js';
import { eksErrors, resolveEks } from './protocol/eks-handler.js';
import { elbv2Errors, resolveElbv2 } from './protocol/elbv2-handler.js';
import { kubeErrors, resolveKube } from './protocol/kube-handler.js';
import { stsErrors, resolveSts } from './protocol/sts-handler.js';
import type { ErrorEncoder, ResolvedCall, WireRequest, WireResponse } from './protocol/types.js';

const MAX_BODY = 16 * 1024 * 1024;

export interface PersistedState {
  schema: 1;
  world: World;
  journal: JournalEntry[];
}

export interface ServerOptions {
  world: World;
  clock: ScaledClock;
  real: Clock;
  journal?: JournalEntry[];
  stateFile?: string;
  /** Extra facts served at GET /_sandbox/info (kubeconfig path, env). */
  info?: () => Record<string, unknown>;
}

/**
 * The front door: one HTTP server on 127.0.0.1 for EKS (restJson1), ELBv2 and STS (awsQuery),
 * the Kubernetes API (under /k8s/<cluster>) and the control endpoint (/_sandbox/). It owns what
 * is about the wire — throttling, injected errors, latency, the journal — and hands decoded
 * calls to the model, advancing the world to "now" first.
 */
export class SandboxServer {
  readonly world: World;
  readonly clock: ScaledClock;
  readonly journal: JournalEntry[];
  private readonly real: Clock;
  private readonly bucket: TokenBucket;
  private readonly wireFaults: FaultRecordData[] = [];
  private readonly stateFile: string | undefined;
  private readonly info: () => Record<string, unknown>;
  private server: Server | undefined;
  endpoint = '';

  constructor(opts: ServerOptions) {
    this.world = opts.world;
    this.clock = opts.clock;
    this.real = opts.real;
    this.journal = opts.journal ?? [];
    this.stateFile = opts.stateFile;
    this.info = opts.info ?? (() => ({}));
    this.bucket = new TokenBucket(40, 10, opts.real.now());
  }

  async listen(port = 0): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new RunbookError('SANDBOX_ERROR', `cannot listen on 127.0.0.1:${port}: ${e.message}`, {
            hint: e.code === 'EADDRINUSE' ? 'Another process uses that port: pick another with --port, or 0 for a free one.' : 'Check the port number.',
            cause: e,
          }),
        ),
      );
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = server.address() as AddressInfo;
    this.endpoint = `http://127.0.0.1:${addr.port}`;
    return this.endpoint;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    this.persist();
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  /** Fault records of the world plus wire-level ones, with wall-clock times. */
  faultRecords(): FaultRecord[] {
    this.advanceNow();
    return [...this.world.faultRecords, ...this.wireFaults]
      .sort((a, b) => a.modelAt - b.modelAt)
      .map((r) => ({ ...r, at: isoUtc(this.clock.toReal(r.modelAt)), modelAt: isoUtc(r.modelAt) }));
  }

  setFaults(f: Partial<FaultSettings>): FaultSettings {
    const parsed = faultSettingsSchema.safeParse(f);
    if (!parsed.success) {
      throw new RunbookError('SANDBOX_ERROR', `invalid fault settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
        hint: 'See docs/sandbox.md, "Fault control", for the fields and their values.',
      });
    }
    this.advanceNow();
    applyFaultSettings(this.world, this.clock.now(), parsed.data);
    if (parsed.data.throttling !== undefined) this.bucket.reset(this.real.now());
    this.persist();
    return { ...this.world.faults };
  }

  advanceNow(): void {
    advance(this.world, this.clock.now());
  }

  persist(): void {
    if (this.stateFile === undefined) return;
    const state: PersistedState = { schema: 1, world: this.world, journal: this.journal };
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, this.stateFile);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    let wire: WireRequest;
    try {
      wire = await readRequest(req);
    } catch (e) {
      send(res, { status: 413, headers: { 'content-type': 'text/plain' }, body: (e as Error).message });
      return;
    }
    try {
      if (wire.path.startsWith('/_sandbox/')) return send(res, this.control(wire));
      const call = route(wire);
      if (!call) return send(res, { status: 404, headers: { 'content-type': 'text/plain', 'x-amzn-requestid': requestId }, body: `sandbox: no service answers ${wire.method} ${wire.path}` });
      const { resolved, encoder } = call;
      const latency = this.world.faults.latencyMs;
      if (latency > 0) await this.real.sleep(latency);
      send(res, this.dispatch(resolved, encoder, requestId));
    } catch (e) {
      send(res, { status: 500, headers: { 'content-type': 'text/plain', 'x-amzn-requestid': requestId }, body: `sandbox internal error: ${(e as Error).stack ?? String(e)}` });
    }
  }

  private dispatch(call: ResolvedCall, encoder: ErrorEncoder, requestId: string): WireResponse {
    const now = this.clock.now();
    advance(this.world, now);
    const out = this.answer(call, encoder, requestId, now);
    if (call.mutating && !isDryRun(call)) {
      this.journal.push({ at: isoUtc(this.real.now()), modelAt: isoUtc(now), service: call.service, operation: call.operation, params: call.params, status: out.status, requestId });
      this.persist();
    }
    return out;
  }

  private answer(call: ResolvedCall, encoder: ErrorEncoder, requestId: string, now: number): WireResponse {
    const aws = call.service !== 'kubernetes';
    if (aws && call.throttled && this.world.faults.throttling && !this.bucket.take(this.real.now())) {
      this.wireFault(now, 'throttled', call.operation);
      return call.service === 'eks'
        ? encoder.error('ThrottlingException', 'Rate exceeded', 429, requestId)
        : encoder.error('Throttling', 'Rate exceeded', 400, requestId);
    }
    if (aws && this.world.faults.errorRate > 0) {
      const [r, next] = nextRandom(this.world.rng);
      this.world.rng = next;
      if (r < this.world.faults.errorRate) {
        this.wireFault(now, 'server-error', call.operation);
        return call.service === 'eks'
          ? encoder.error('ServiceUnavailableException', 'Service is temporarily unavailable (injected fault)', 503, requestId)
          : encoder.error('ServiceUnavailable', 'Service is temporarily unavailable (injected fault)', 503, requestId);
      }
    }
    try {
      return call.run({ world: this.world, clock: this.clock, requestId, endpoint: this.endpoint });
    } catch (e) {
      if (isApiError(e)) return encoder.error(e.code, e.message, e.status, requestId, e.fields);
      throw e;
    }
  }

  private wireFault(now: number, kind: 'throttled' | 'server-error', operation: string): void {
    // Keep the record bounded: a throttling storm should not grow memory without end.
    if (this.wireFaults.length >= 10_000) this.wireFaults.shift();
    this.wireFaults.push({ modelAt: now, kind, cause: 'fault-injection', trigger: operation, cluster: this.world.mainCluster, loadBalancerArns: [], targetGroupArns: [], protectedTargetGroupArns: [], detail: kind === 'throttled' ? 'Rate exceeded' : 'injected 5xx' });
  }

  private control(req: WireRequest): WireResponse {
    const ok = (v: unknown, status = 200): WireResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(v, null, 2) });
    const what = req.path.replace(/^\/_sandbox\//, '').replace(/\/$/, '');
    try {
      if (req.method === 'GET' && what === 'journal') return ok(this.journal);
      if (req.method === 'DELETE' && what === 'journal') {
        this.journal.length = 0;
        this.persist();
        return ok([]);
      }
      if (req.method === 'GET' && (what === 'fault-records' || what === 'faults-records')) return ok(this.faultRecords());
      if (req.method === 'GET' && what === 'faults') return ok(this.world.faults);
      if (req.method === 'POST' && what === 'faults') return ok(this.setFaults(JSON.parse(req.body || '{}') as Partial<FaultSettings>));
      if (req.method === 'GET' && what === 'state') {
        this.advanceNow();
        return ok({ scenario: this.world.scenario, speed: this.clock.speed, modelTime: isoUtc(this.world.now), wallTime: isoUtc(this.real.now()), world: this.world });
      }
      if (req.method === 'GET' && what === 'info') return ok({ endpoint: this.endpoint, scenario: this.world.scenario, speed: this.clock.speed, ...this.info() });
    } catch (e) {
      return ok({ error: (e as Error).message, hint: (e as RunbookError).hint }, 400);
    }
    return ok({ error: `no control route ${req.method} /_sandbox/${what}`, routes: ['GET journal', 'DELETE journal', 'GET fault-records', 'GET faults', 'POST faults', 'GET state', 'GET info'] }, 404);
  }
}

function isDryRun(call: ResolvedCall): boolean {
  return call.service === 'kubernetes' && (call.params as { dryRun?: boolean } | undefined)?.dryRun === true;
}

/** Which service a request is for: the SigV4 credential scope says; unsigned kube calls live under /k8s/. */
function route(req: WireRequest): { resolved: ResolvedCall; encoder: ErrorEncoder } | undefined {
  if (req.path.startsWith('/k8s/')) return { resolved: resolveKube(req), encoder: kubeErrors };
  const auth = String(req.headers['authorization'] ?? req.query.get('X-Amz-Credential') ?? '');
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth) ?? /^[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth);
  let service = scope?.[1];
  if (!service) {
    const version = new URLSearchParams(req.body).get('Version');
    service = version === '2015-12-01' ? 'elasticloadbalancing' : version === '2011-06-15' ? 'sts' : /^\/(clusters|addons)\b/.test(req.path) ? 'eks' : undefined;
  }
  if (service === 'eks') return { resolved: resolveEks(req), encoder: eksErrors };
  if (service === 'elasticloadbalancing') return { resolved: resolveElbv2(req), encoder: elbv2Errors };
  if (service === 'sts') return { resolved: resolveSts(req), encoder: stsErrors };
  return undefined;
}

async function readRequest(req: IncomingMessage): Promise<WireRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) throw new Error('request body too large for the sandbox');
    chunks.push(b);
  }
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  return { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
}

function send(res: ServerResponse, r: WireResponse): void {
  res.writeHead(r.status, { ...r.headers, 'content-length': Buffer.byteLength(r.body) });
  res.end(r.body);
}

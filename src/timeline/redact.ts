/**
 * Secrets must never reach disk, a chat channel or an export. The store runs every event and
 * checkpoint through a Redactor before writing; exporters and the notifier run their output
 * through one again, because old runs (or a note typed by hand) may predate a rule.
 */

export const REDACTED = '[REDACTED]';

export interface RedactionPattern {
  /** Shown in the replacement so a reader knows what kind of thing was removed. */
  name: string;
  /** Must carry the `g` flag. */
  regex: RegExp;
  /** Defaults to `[REDACTED:<name>]`. */
  replace?: string | ((match: string, ...groups: string[]) => string);
}

/**
 * Key names whose value is a secret, in objects ({ slackWebhook: … }) and in text
 * (`password=…`, `AWS_SECRET_ACCESS_KEY: …`). Matched on the end of the name so that
 * `dbPassword` and `SLACK_WEBHOOK_URL` count.
 */
const SECRET_KEY = String.raw`(?:secret|password|passwd|pwd|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|webhook(?:[_-]?url)?|authorization|auth)`;
const SECRET_KEY_NAME = new RegExp(`${SECRET_KEY}$`, 'i');
/**
 * Tokens that are identifiers, not credentials: the EKS step checkpoints its clientRequestToken
 * so a resumed run re-attaches to the same update, and an operator needs to see it.
 */
const NOT_SECRET_KEY_NAME = /(?:request|next|continuation|pagination|idempotency)[_-]?token$/i;

export const DEFAULT_PATTERNS: readonly RedactionPattern[] = [
  {
    name: 'slack-webhook',
    regex: /https?:\/\/hooks\.slack(?:-gov)?\.com\/[^\s"'<>`)\]]*/gi,
  },
  { name: 'slack-token', regex: /\bxox[abposr]-[A-Za-z0-9-]{8,}/g },
  { name: 'github-token', regex: /\bgh[pousr]_[A-Za-z0-9]{20,}/g },
  // AKIA: long-term IAM user keys; ASIA: temporary STS keys. Both 20 characters.
  { name: 'aws-access-key', regex: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g },
  {
    name: 'url-password',
    regex: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"']+:)([^\s@/"']+)@/gi,
    replace: (_m, prefix) => `${prefix}${REDACTED}@`,
  },
  {
    name: 'bearer',
    regex: /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g,
    replace: (_m, scheme) => `${scheme} ${REDACTED}`,
  },
  {
    // key=value, key: value, "key": "value" — the key stays so the reader knows what was there.
    name: 'secret-assignment',
    regex: new RegExp(
      String.raw`(\b(?:[A-Za-z_][\w.-]*?)?${SECRET_KEY}["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&"'}\]]+)`,
      'gi',
    ),
    replace: (m: string, prefix: string, value: string) => {
      const key = prefix.replace(/["']?\s*[=:]\s*$/, '');
      if (NOT_SECRET_KEY_NAME.test(key)) return m;
      if (value.startsWith('[REDACTED')) return m;
      const quote = value.startsWith('"') ? '"' : value.startsWith("'") ? "'" : '';
      return `${prefix}${quote}${REDACTED}${quote}`;
    },
  },
];

/** Shorter strings would redact ordinary words; such a "secret" is refused, not half-honoured. */
export const MIN_SECRET_LENGTH = 4;

export class Redactor {
  private readonly secrets = new Set<string>();
  private readonly patterns: RedactionPattern[];

  constructor(opts: { patterns?: readonly RedactionPattern[]; secrets?: Iterable<string> } = {}) {
    this.patterns = [...(opts.patterns ?? DEFAULT_PATTERNS)];
    for (const s of opts.secrets ?? []) this.addSecret(s);
  }

  /**
   * Register a literal secret (a webhook URL, a token read from the environment). Its URL-encoded
   * and JSON-escaped spellings are registered too, since that is how it leaks into error text.
   * Returns false when the string is too short to redact safely.
   */
  addSecret(secret: string): boolean {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) return false;
    for (const v of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
      this.secrets.add(v);
    }
    return true;
  }

  addPattern(pattern: RedactionPattern): void {
    if (!pattern.regex.flags.includes('g')) throw new Error(`redaction pattern ${pattern.name} needs the g flag`);
    this.patterns.push(pattern);
  }

  /** Scrub one string. */
  redactText(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another registered one is removed whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) {
      if (out.includes(s)) out = out.split(s).join(REDACTED);
    }
    for (const p of this.patterns) {
      p.regex.lastIndex = 0;
      const replacement = p.replace ?? `[REDACTED:${p.name}]`;
      out =
        typeof replacement === 'string'
          ? out.replace(p.regex, replacement)
          : out.replace(p.regex, (m: string, ...rest: unknown[]) =>
              replacement(m, ...rest.filter((r): r is string => typeof r === 'string')),
            );
    }
    return out;
  }

  /**
   * Deep copy of `value` with every string scrubbed, and every string stored under a secret-looking
   * key replaced whole. The input is not modified. Arrow property so it can be passed around bare.
   */
  readonly redact = <T>(value: T): T => this.walk(value, undefined, new WeakMap()) as T;

  private walk(value: unknown, key: string | undefined, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') {
      if (key !== undefined && isSecretKey(key) && value !== '') return REDACTED;
      return this.redactText(value);
    }
    if (value === null || typeof value !== 'object') return value;
    if (value instanceof Date) return new Date(value.getTime());
    const prior = seen.get(value);
    if (prior !== undefined) return prior;
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      for (const item of value) out.push(this.walk(item, key, seen));
      return out;
    }
    if (value instanceof Error) {
      // JSON.stringify turns an Error into {}, losing the message; keep what a reader needs.
      return { name: value.name, message: this.redactText(value.message) };
    }
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    for (const [k, v] of Object.entries(value)) out[this.redactText(k)] = this.walk(v, k, seen);
    return out;
  }
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY_NAME.test(key) && !NOT_SECRET_KEY_NAME.test(key);
}

/** A redactor with the default patterns and the given literal secrets. */
export function createRedactor(secrets: Iterable<string> = []): Redactor {
  return new Redactor({ secrets });
}

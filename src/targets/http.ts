import { Agent, request } from 'undici';
import { UsageError } from '../core/errors.js';
import type { HttpTraceEntry } from '../core/types.js';

/** Loopback hosts, the only ones plain http:// is allowed to (docs/CONTRACT.md). */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Parses and checks an endpoint URL from the environment; names the variable in every message. */
export function checkEndpoint(raw: string, variable: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${variable} is not a URL: "${raw}". Set it like https://api.example.org.`, 'E_CONFIG');
  }
  if (url.username || url.password) throw new UsageError(`${variable} must not contain credentials; use the credential variables instead.`, 'E_CONFIG');
  if (url.search) throw new UsageError(`${variable} must not contain a query string ("?…"); credentials never go in URLs.`, 'E_CONFIG');
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new UsageError(`${variable} uses plain http:// to ${url.hostname}; use https:// (plain http is allowed only to this machine).`, 'E_CONFIG');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${variable} must be an http(s) URL.`, 'E_CONFIG');
  return url;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export type HttpResult = { ok: true; reply: HttpReply } | { ok: false; reason: string };

/** A connection pool sized to the run's concurrency, with timeouts; network trouble comes back as a value. */
export function createHttp(connections: number, timeoutMs: number, trace?: (entry: HttpTraceEntry) => void) {
  const agent = new Agent({
    connections: Math.max(1, connections),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 10_000,
    connect: { timeout: Math.min(timeoutMs, 30_000) },
  });
  return {
    /** `init.signal` abandons the call (only for reads: a write in flight is always waited for). */
    async send(url: URL, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }): Promise<HttpResult> {
      // undici's own timers tick coarsely (a 1 s timeout fires after about 1.5 s): a precise per-request deadline.
      // Its timer is cleared with the answer: AbortSignal.timeout's would live on for the whole timeout, and a fast
      // run would hold tens of thousands of them (measured: ~1,600 live timers 5 s into a 100k-row import).
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(new DOMException('timeout', 'TimeoutError')), timeoutMs);
      const cancel = () => deadline.abort(new DOMException('interrupted', 'AbortError'));
      init.signal?.addEventListener('abort', cancel, { once: true });
      const started = performance.now();
      const at = new Date().toISOString();
      const log = trace && ((e: Partial<HttpTraceEntry>) => trace({ at, method: init.method, url: url.toString(), requestHeaders: init.headers, requestBody: init.body, ms: Math.round(performance.now() - started), ...e }));
      try {
        const res = await request(url, { method: init.method as 'PUT', headers: init.headers, body: init.body, dispatcher: agent, signal: deadline.signal });
        const text = await res.body.text();
        log?.({ status: res.statusCode, responseHeaders: res.headers, responseBody: text });
        return { ok: true, reply: { status: res.statusCode, headers: res.headers, text } };
      } catch (err) {
        const reason = describeNetworkError(err, timeoutMs);
        log?.({ error: reason });
        return { ok: false, reason };
      } finally {
        clearTimeout(timer);
        init.signal?.removeEventListener('abort', cancel);
      }
    },
    close: () => agent.close(),
  };
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  const e = err as { code?: string | number; message?: string; name?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${(timeoutMs / 1000).toFixed(timeoutMs < 1000 ? 1 : 0)} s (timeout)`;
  switch (e.code) {
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
    case 23: // DOMException TIMEOUT_ERR
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `no answer within ${(timeoutMs / 1000).toFixed(timeoutMs < 1000 ? 1 : 0)} s (timeout)`;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'could not connect (connect timeout)';
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name could not be resolved';
    default:
      return `network error: ${e.code ?? e.message ?? String(err)}`;
  }
}

/** Reads a body as JSON, or undefined when it is not (HTML error pages, truncated bodies). */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A short, single-line excerpt of a body for messages. */
export function excerpt(text: string, max = 160): string {
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return plain.length > max ? `${plain.slice(0, max)}…` : plain;
}

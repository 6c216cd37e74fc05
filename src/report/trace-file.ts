import { closeSync, writeSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { createRedactor } from '../core/redact.js';
import type { HttpTraceEntry } from '../core/types.js';
import { openPrivate } from './report-writer.js';

/** Names of headers and form parameters that carry credentials: their values never reach a trace. */
const SECRET_NAME = /token|auth|key|password|secret|login_name|cookie/i;
/** A body longer than this is cut in the trace (with its length): a trace shows shapes, not whole exports. */
const MAX_BODY = 64 * 1024;

/**
 * `--trace <file>`: every request and answer as one JSON line (time, method, URL, status, milliseconds, headers and
 * bodies), so the first run on a real account shows what the vendor really answered. Credentials are masked by name
 * (authToken, api_key, login_name, login_password) and every known secret value is masked wherever it appears. The
 * file is the owner's only (0600) and is appended to: a trace never writes over anything.
 */
export class TraceFile {
  private readonly fd: number;
  private buffer = '';
  readonly redact: (text: string) => string;
  count = 0;

  constructor(readonly path: string, secrets: Iterable<string | undefined>) {
    this.redact = createRedactor(secrets);
    try {
      this.fd = openPrivate(path, 'a');
    } catch (err) {
      throw new UsageError(`Cannot write the trace ${path}: ${(err as NodeJS.ErrnoException).code ?? err}. Choose another path with --trace.`, 'E_OUTPUT_PATH', { cause: err });
    }
  }

  record = (entry: HttpTraceEntry): void => {
    this.count++;
    const line = {
      ...entry,
      requestHeaders: maskHeaders(entry.requestHeaders),
      requestBody: cut(maskForm(entry.requestBody)),
      responseHeaders: entry.responseHeaders && maskHeaders(entry.responseHeaders),
      responseBody: cut(entry.responseBody),
    };
    this.buffer += this.redact(JSON.stringify(line)) + '\n';
    if (this.buffer.length > 64 * 1024) this.flush();
  };

  flush(): void {
    if (this.buffer) {
      writeSync(this.fd, this.buffer);
      this.buffer = '';
    }
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

function maskHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, SECRET_NAME.test(k) ? '***' : v]));
}

/** A form body (Luminate's POSTs) with its credential parameters masked; a JSON body is left to the value redactor. */
function maskForm(body: string | undefined): string | undefined {
  if (!body || body.startsWith('{') || !body.includes('=')) return body;
  const params = new URLSearchParams(body);
  for (const k of [...params.keys()]) if (SECRET_NAME.test(k)) params.set(k, '***');
  return params.toString();
}

function cut(body: string | undefined): string | undefined {
  return body && body.length > MAX_BODY ? `${body.slice(0, MAX_BODY)}… (${body.length} characters in all)` : body;
}

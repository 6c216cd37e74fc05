import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startSalsaSandbox, type TestSandbox } from '../support/helpers.js';

let running: TestSandbox | undefined;
afterEach(async () => {
  await running?.sandbox.close();
  running = undefined;
});

async function put(sb: TestSandbox, email: string) {
  const body = JSON.stringify({ payload: { supporters: [{ firstName: 'Ann', contacts: [{ type: 'EMAIL', value: email }] }] } });
  try {
    const res = await request(`${sb.sandbox.url}/api/integration/ext/v1/supporters`, { method: 'PUT', headers: { authToken: sb.token, 'content-type': 'application/json' }, body });
    return { status: res.statusCode, text: await res.body.text() };
  } catch (err) {
    return { status: 0, text: (err as Error).message };
  }
}

const emails = (sb: TestSandbox) => (sb.salsa.snapshot() as { supporters: Array<{ contacts: Array<{ value: string }> }> }).supporters.map((s) => s.contacts[0]!.value);

describe('sandbox faults with latency (the emulator works inside the answer time)', () => {
  it('a gateway error or reset leaves the remote untouched; reset-after applies the change and loses the answer', async () => {
    running = await startSalsaSandbox({ latencyMs: 30, faults: '503*1,reset*1,reset-after*1' });
    const gateway = await put(running, 'a@example.org');
    expect(gateway.status).toBe(503);
    expect(gateway.text).toContain('Service Temporarily Unavailable');
    expect((await put(running, 'b@example.org')).status).toBe(0);
    expect(emails(running)).toEqual([]);
    expect((await put(running, 'c@example.org')).status).toBe(0);
    expect(emails(running)).toEqual(['c@example.org']);
    const ok = await put(running, 'd@example.org');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text).payload.supporters[0].result).toBe('ADDED');
    expect(emails(running)).toEqual(['c@example.org', 'd@example.org']);
  });
});

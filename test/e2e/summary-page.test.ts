import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAfterEach, csv, readReport, runInProcess, startSalsaSandbox, tempDir } from '../support/helpers.js';

// The page a run writes beside its report, opened in a real browser (Debian's Chromium, driven by playwright-core).

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const canRun = existsSync(CHROMIUM);
if (!canRun) console.warn(`summary page browser test SKIPPED: no Chromium at ${CHROMIUM} (install Debian's chromium package, or set CHROMIUM_PATH)`);

const closing = closeAfterEach();
const HOSTILE_NAME = '<script>document.title="pwned"</script>';
const HOSTILE_CITY = '<img src=x onerror="document.title=\'pwned\'">';

type Browser = import('playwright-core').Browser;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!canRun) return;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
});
afterAll(async () => {
  await browser?.close();
});

describe.skipIf(!canRun)('the summary page, in a browser', () => {
  it('opens offline with no console error and no request, shows every count of the report, groups failures, and renders hostile values as text', async () => {
    const sb = await startSalsaSandbox({ rateLimit: 100_000 });
    closing(sb.sandbox);
    const dir = tempDir();
    const input = join(dir, 'signups.csv');
    const rows = [
      ['ann@example.org', HOSTILE_NAME, 'Lee', HOSTILE_CITY],
      [HOSTILE_NAME, 'Bo', 'Chen', ''],
      [HOSTILE_CITY, 'Cy', 'Diaz', ''],
      ['', 'Dee', 'Evans', ''],
      ['eve@example.org', 'Eve', 'Fox', ''],
    ];
    writeFileSync(input, csv(['Email', 'First Name', 'Last Name', 'City'], rows));
    const res = await runInProcess(['import', input, '--no-state'], { env: sb.env });
    expect(res.code).toBe(1);
    const page = join(dir, 'signups.report.html');
    expect(res.stderr).toContain(`summary page: ${page}`);
    const report = readReport(join(dir, 'signups.report.csv'));
    const counts: Record<string, number> = {};
    for (const r of report) counts[r.status!] = (counts[r.status!] ?? 0) + 1;

    const tab = await browser!.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    tab.on('pageerror', (e) => errors.push(e.message));
    tab.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(page).href;
    await tab.goto(url);
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]); // the page itself, nothing else
    expect(await tab.title()).toBe(`Import → Salsa Engage: ${input}`);

    // Every count the CSV report adds up to, and the total.
    for (const [status, n] of Object.entries(counts)) expect(await tab.locator(`td[data-status="${status}"]`).innerText()).toBe(String(n));
    expect(await tab.locator('#total').innerText()).toBe(String(report.length));

    // Failures grouped by reason: the two invalid emails are one group, the missing email another.
    const groups = tab.locator('details');
    expect(await groups.count()).toBe(2);
    const invalid = groups.filter({ hasText: 'is not a valid email address' });
    expect(await invalid.locator('summary').innerText()).toMatch(/^2 × INVALID/);
    expect(await invalid.locator('td').first().isVisible()).toBe(false);
    await invalid.locator('summary').click();
    expect(await invalid.locator('tr').nth(1).isVisible()).toBe(true);
    expect(await invalid.locator('a').first().getAttribute('href')).toBe('signups.csv#line=3');
    const shown = await invalid.innerText();
    expect(shown).toContain(HOSTILE_NAME);
    expect(shown).toContain(HOSTILE_CITY);

    // Hostile values from the file are text, never markup.
    expect(await tab.locator('script').count()).toBe(0);
    expect(await tab.locator('img').count()).toBe(0);
    expect(await tab.title()).not.toBe('pwned');
    const html = readFileSync(page, 'utf8');
    expect(html).not.toContain(sb.token);
    await tab.close();
  });
});

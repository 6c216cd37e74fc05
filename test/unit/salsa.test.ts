import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRowMapper } from '../../src/mapping/mapper.js';
import { salsaTarget } from '../../src/targets/salsa/index.js';
import { prepareSalsa } from '../../src/targets/salsa/mapper.js';
import { classifySalsaReply } from '../../src/targets/salsa/reply.js';

// Salsa Engage's own rules, apart from the generic mapping and retry tests: how its answers are classified, how a
// row becomes a supporter, and what is checked locally before anything is sent.

describe('a mapped row becomes a Salsa supporter', () => {
  it('trims values and builds a Salsa supporter with addressLine1/addressLine2 and contacts', () => {
    const m = createRowMapper(salsaTarget, undefined, 'in.csv');
    m.bind(['Email', 'First Name', 'Address 1', 'Address 2', 'City', 'Zip', 'Phone', 'Gender', 'Date of Birth', 'custom:Volunteer']);
    const r = m.map({ Email: ' A@Example.org ', 'First Name': ' Ann ', 'Address 1': '1 Main St', 'Address 2': 'Apt 2', City: 'Austin', Zip: '78701', Phone: '555', Gender: 'f', 'Date of Birth': '1980-02-29', 'custom:Volunteer': 'yes' });
    if (!('mapped' in r)) throw new Error(r.error);
    const p = prepareSalsa('upsert', r.mapped);
    expect(p).toEqual({
      ok: true,
      key: 'a@example.org',
      lockKeys: ['email:a@example.org'],
      payload: {
        firstName: 'Ann',
        dateOfBirth: '1980-02-29T12:00:00.000Z',
        gender: 'FEMALE',
        address: { addressLine1: '1 Main St', addressLine2: 'Apt 2', city: 'Austin', postalCode: '78701' },
        contacts: [{ type: 'EMAIL', value: 'A@Example.org' }, { type: 'HOME_PHONE', value: '555' }],
        customFieldValues: [{ name: 'Volunteer', value: 'yes' }],
      },
      // The row gives no email status: a supporter this row creates is set OPT_OUT by a second call.
      afterCreate: { contacts: [{ type: 'EMAIL', value: 'A@Example.org', status: 'OPT_OUT' }, { type: 'HOME_PHONE', value: '555' }] },
    });
  });
});

describe('Salsa replies', () => {
  const reply = (status: number, body: string, headers: Record<string, string> = {}) => classifySalsaReply({ status, headers, text: body }, 2);
  it('tells batch-size 429s from rate 429s', () => {
    expect(reply(429, '{"errors":[{"message":"Requested batch size exceeds the allowed size of: 10"}]}')).toMatchObject({ kind: 'shrink', maxBatchSize: 10 });
    expect(reply(429, '{"errors":[{"message":"Call rate has been exceeded"}]}', { 'retry-after': '2' })).toMatchObject({ kind: 'retry', rateLimited: true, retryAfterMs: 2000 });
    expect(reply(200, 'Your per minute call rate has been exceeded')).toMatchObject({ kind: 'retry', rateLimited: true });
  });
  it('retries gateway errors and HTML, rejects 400 and JSON 500s, aborts on 401', () => {
    expect(reply(504, '<html><h1>504 Gateway Time-out</h1></html>')).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/HTTP 504.*Gateway Time-out/) });
    expect(reply(500, '<html>oops</html>')).toMatchObject({ kind: 'retry' });
    expect(reply(500, '{"errors":[{"message":"boom"}]}')).toMatchObject({ kind: 'reject', httpStatus: 500 });
    expect(reply(400, '{"errors":[{"message":"payload missing"}]}')).toMatchObject({ kind: 'reject', reason: expect.stringMatching(/payload missing/) });
    expect(reply(401, '')).toMatchObject({ kind: 'abort' });
    expect(reply(200, '{"payload":{"supp')).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/unreadable/) });
  });
  it('collects field errors from the supporter, contacts, address and custom fields', () => {
    const out = classifySalsaReply(
      {
        status: 200,
        headers: {},
        text: JSON.stringify({
          payload: {
            supporters: [
              { result: 'VALIDATION_ERROR', contacts: [{ type: 'EMAIL', value: 'x', errors: [{ code: 2008, message: 'The email provided is not of correct format', fieldName: 'value' }] }], address: { errors: [{ code: 7, message: 'Invalid state code', fieldName: 'state' }] } },
              { result: 'VALIDATION_ERROR', customFieldValues: [{ name: 'Vol', errors: [{ code: 9, message: 'Custom field not found', fieldName: 'name' }] }], errors: [{ code: 3, message: 'Invalid gender', fieldName: 'gender' }] },
              { result: 'SYSTEM_ERROR' },
            ],
          },
        }),
      },
      3,
    );
    expect(out).toMatchObject({
      kind: 'results',
      results: [
        { status: 'VALIDATION_ERROR', errorCode: '7', errorMessage: 'address.state: Invalid state code; contacts[EMAIL].value: The email provided is not of correct format' },
        { status: 'VALIDATION_ERROR', errorCode: '3', errorMessage: 'gender: Invalid gender; customFieldValues[Vol].name: Custom field not found' },
        { status: 'SYSTEM_ERROR', retryable: true },
      ],
    });
  });
});

describe('local checks (Salsa)', () => {
  const prep = (fields: Record<string, string>, op: 'upsert' | 'delete' = 'upsert') => prepareSalsa(op, { fields, custom: [] });
  it('requires a well-formed email or a UUID supporterId', () => {
    expect(prep({ firstName: 'A' })).toMatchObject({ ok: false, error: expect.stringMatching(/email is required/) });
    expect(prep({ email: 'bad@email@bad.com' })).toMatchObject({ ok: false, error: expect.stringMatching(/not a valid email/) });
    expect(prep({ supporterId: '1234' })).toMatchObject({ ok: false, error: expect.stringMatching(/not a Salsa supporter id/) });
    const id = '1f4d3ee4-af08-42bb-8ca2-50fc232e7b40';
    expect(prep({ supporterId: id, firstName: 'A' })).toMatchObject({ ok: true, key: id, lockKeys: [`id:${id}`] });
    expect(prep({ supporterId: id }, 'delete')).toEqual({ ok: true, key: id, lockKeys: [`id:${id}`], payload: { supporterId: id } });
    expect(prep({ email: 'a@b.org' }, 'delete')).toMatchObject({ ok: false, error: expect.stringMatching(/supporterId is required to delete/) });
  });
  it('checks lengths, dates and genders with the field named', () => {
    // Each names its field, so the row can go without that value (the email is a key: no field, the row is INVALID).
    expect(prep({ email: 'a@b.org', firstName: 'x'.repeat(65) })).toMatchObject({ ok: false, field: 'firstName', error: 'firstName is 65 characters long; Salsa accepts at most 64' });
    expect(prep({ email: 'a@b.org', dateOfBirth: '1999-02-30' })).toMatchObject({ ok: false, field: 'dateOfBirth', error: expect.stringMatching(/^dateOfBirth "1999-02-30" is not a date/) });
    expect(prep({ email: 'a@b.org', gender: 'other' })).toMatchObject({ ok: false, field: 'gender', error: expect.stringMatching(/^gender "other" is not one Salsa stores \(MALE or FEMALE/) });
    expect(prep({ email: 'x'.repeat(250) + '@b.org' })).toMatchObject({ ok: false, field: undefined });
  });
  it('a state Salsa would refuse in a US address (or one with no country) costs the row that value, not the supporter', () => {
    // Shopify's customer JSON has an account "state" ("enabled"): read as the address state, it is no state at all.
    expect(prep({ email: 'a@b.org', state: 'enabled' })).toMatchObject({ ok: false, field: 'state', error: expect.stringMatching(/^state "enabled" is not a US state/) });
    expect(prep({ email: 'a@b.org', state: 'ON', country: 'USA' })).toMatchObject({ ok: false, field: 'state' });
    for (const state of ['NC', 'nc', 'North Carolina', 'Puerto Rico', 'AE']) expect(prep({ email: 'a@b.org', state })).toMatchObject({ ok: true });
    expect(prep({ email: 'a@b.org', state: 'ON', country: 'Canada' })).toMatchObject({ ok: true });
  });
  it('sends no empty or absent field, but a whole address clears its empty parts on purpose ("" clears, left out is kept)', () => {
    const p = prep({ email: 'a@b.org', firstName: '', addressLine1: '1 Elm Rd', city: 'Austin', state: '', postalCode: '78701' });
    expect(JSON.stringify(p.ok && p.payload)).toBe('{"address":{"addressLine1":"1 Elm Rd","city":"Austin","postalCode":"78701","state":""},"contacts":[{"type":"EMAIL","value":"a@b.org"}]}');
    // --address replace replaces the stored address whole: every part the row does not give is sent as "".
    const r = prepareSalsa('upsert', { fields: { email: 'a@b.org', postalCode: '78701' }, custom: [] }, { replacePartial: true });
    expect(r.ok && (r.payload as { address: unknown }).address).toEqual({ addressLine1: '', addressLine2: '', city: '', state: '', postalCode: '78701', county: '', country: '' });
  });
  it('holds back an address without street or city (it would mix with the stored one: Salsa keeps the parts a request leaves out) for a second call after a creation', () => {
    const p = prep({ email: 'a@b.org', postalCode: '10001' });
    expect(p).toMatchObject({ ok: true, payload: { contacts: [{ type: 'EMAIL', value: 'a@b.org' }] }, afterCreate: { address: { postalCode: '10001' } }, heldBackNote: expect.stringMatching(/^address not sent/) });
    expect(JSON.stringify(p.ok && p.payload)).not.toContain('address');
    const replaced = prepareSalsa('upsert', { fields: { email: 'a@b.org', postalCode: '10001' }, custom: [] }, { replacePartial: true });
    expect(replaced).toMatchObject({ ok: true, payload: { address: { postalCode: '10001' } } });
    expect(replaced.ok && replaced.afterCreate).toEqual({ contacts: [{ type: 'EMAIL', value: 'a@b.org', status: 'OPT_OUT' }] }); // no address: it went
  });
  it('carries every Salsa field a row can give into the supporter (none is left behind by the field-by-field build)', () => {
    const fields = Object.fromEntries(salsaTarget.fields.filter((f) => f.name !== 'supporterId').map((f) => [f.name, f.name === 'email' ? 'a@b.org' : f.name === 'dateOfBirth' ? '1980-01-02' : f.name === 'gender' ? 'F' : f.name === 'emailStatus' || f.name === 'smsStatus' ? 'yes' : `v-${f.name}`]));
    const p = prep(fields);
    if (!p.ok) throw new Error(p.error);
    const s = p.payload as { address: Record<string, string>; contacts: Array<{ value: string }> } & Record<string, unknown>;
    const carried = new Set([...Object.values(s).filter((v) => typeof v === 'string'), ...Object.values(s.address), ...s.contacts.map((c) => c.value)]);
    const lost = Object.entries(fields).filter(([name, v]) => !['dateOfBirth', 'gender', 'emailStatus', 'smsStatus'].includes(name) && !carried.has(v)).map(([name]) => name);
    expect(lost).toEqual([]);
    expect(s).toMatchObject({ dateOfBirth: '1980-01-02T12:00:00.000Z', gender: 'FEMALE', contacts: expect.arrayContaining([{ type: 'EMAIL', value: 'a@b.org', status: 'OPT_IN' }]) });
  });
  it('checkOnly (validate, dry run) gives every row the same verdict, key and reason as a full prepare (property)', () => {
    const value = (good: string[], bad: string[]) => fc.option(fc.constantFrom(...good, ...bad), { nil: undefined });
    const row = fc.record({
      email: value(['a@b.org', ' A@B.org '], ['bad@', 'x@y..org']),
      supporterId: value(['1f4d3ee4-af08-42bb-8ca2-50fc232e7b40'], ['1234']),
      firstName: value(['Ann', ''], ['x'.repeat(65)]),
      dateOfBirth: value(['1980-02-29', '7/4/1976'], ['1981-02-29', 'soon']),
      gender: value(['f', 'MALE'], ['other']),
      emailStatus: value(['yes', 'OPT_OUT'], ['maybe']),
      city: value(['Austin'], ['x'.repeat(65)]),
      homePhone: value(['555'], []),
    }, { requiredKeys: [] });
    const custom = fc.array(fc.record({ name: fc.constantFrom('Volunteer', 'Team'), value: fc.constantFrom('yes', 'x'.repeat(1025)) }), { maxLength: 2 });
    fc.assert(
      fc.property(row, custom, fc.constantFrom('upsert' as const, 'delete' as const), (fields, customs, op) => {
        const mapped = { fields: Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Record<string, string>, custom: customs };
        const full = prepareSalsa(op, mapped);
        const check = prepareSalsa(op, mapped, { checkOnly: true });
        expect({ ok: check.ok, key: check.key, error: check.ok ? undefined : check.error }).toEqual({ ok: full.ok, key: full.key, error: full.ok ? undefined : full.error });
      }),
      { numRuns: 500 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRowMapper } from '../../src/mapping/mapper.js';
import { parseMapping } from '../../src/mapping/mapping-file.js';
import { isEmail, parseCalendarDate } from '../../src/mapping/values.js';
import { prepareSalsa } from '../../src/targets/salsa/mapper.js';
import { salsaTarget } from '../../src/targets/salsa/index.js';

const mapping = (json: object) => parseMapping(json, JSON.stringify(json, null, 2), 'mapping.json', salsaTarget);

describe('auto-matching well-known headers', () => {
  it('matches case- and punctuation-insensitively and lists unused columns', () => {
    const m = createRowMapper(salsaTarget, undefined, 'in.csv');
    m.bind(['E-Mail', 'FIRST_NAME', 'last name', 'Street', 'Zip/Postal Code', 'Mobile', 'DOB', 'Favourite colour', 'custom:Volunteer']);
    expect(Object.fromEntries(m.matches().map((x) => [x.column, x.field]))).toEqual({
      'E-Mail': 'email',
      FIRST_NAME: 'firstName',
      'last name': 'lastName',
      Street: 'addressLine1',
      'Zip/Postal Code': 'postalCode',
      Mobile: 'cellPhone',
      DOB: 'dateOfBirth',
      'custom:Volunteer': 'custom Volunteer',
    });
    expect(m.unusedColumns()).toEqual(['Favourite colour']);
  });

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

describe('mapping files', () => {
  it('applies transforms, value maps, defaults and concatenation', () => {
    const spec = mapping({
      fields: {
        email: { column: 'Mail', transform: ['trim', 'lowercase'] },
        firstName: { column: 'Given', transform: 'titlecase' },
        dateOfBirth: { column: 'Born', transform: { date: 'DD/MM/YYYY' } },
        gender: { column: 'Sex', map: { m: 'MALE', f: 'FEMALE' } },
        emailStatus: { column: 'OK', map: { Y: 'OPT_IN', N: 'OPT_OUT' }, default: 'OPT_IN' },
        addressLine1: { columns: ['No', 'Street'], separator: ' ' },
      },
      customFields: [{ name: 'Volunteer', column: 'Vol' }],
      autoMatch: false,
    });
    const m = createRowMapper(salsaTarget, spec, 'in.csv');
    m.bind(['Mail', 'Given', 'Born', 'Sex', 'OK', 'No', 'Street', 'Vol', 'First Name']);
    const r = m.map({ Mail: ' X@Y.ORG', Given: "mary-jane o'neil", Born: '03/04/1990', Sex: 'F', OK: '', No: '12', Street: 'High St', Vol: 'Weekends', 'First Name': 'ignored' });
    expect(r).toEqual({
      mapped: {
        fields: { email: 'x@y.org', firstName: "Mary-Jane O'Neil", dateOfBirth: '1990-04-03', gender: 'FEMALE', emailStatus: 'OPT_IN', addressLine1: '12 High St' },
        custom: [{ name: 'Volunteer', fieldId: undefined, value: 'Weekends' }],
      },
    });
    expect(m.unusedColumns()).toEqual(['First Name']);
    expect(m.map({ Mail: 'a@b.org', Given: '', Born: '1990-04-03', Sex: '', OK: '', No: '', Street: '', Vol: '' })).toEqual({
      error: 'dateOfBirth (from "Born"): "1990-04-03" is not a date in the format DD/MM/YYYY',
    });
    expect(m.map({ Mail: 'a@b.org', Given: '', Born: '', Sex: 'X', OK: '', No: '', Street: '', Vol: '' })).toEqual({
      error: 'gender (from "Sex"): "X" is not one of the mapped values (m, f)',
    });
  });

  it('names the key and the line of every mistake', () => {
    expect(() => mapping({ fields: { email: 'Email', frist_name: 'First' } })).toThrow(/mapping\.json, line 4: "frist_name" is not a Salsa Engage field/);
    expect(() => mapping({ fields: { email: { column: 'E', transform: ['shout'] } } })).toThrow(/line 3: field "email": unknown transform "shout"/);
    expect(() => mapping({ fields: {}, target: 'luminate' })).toThrow(/written for target "luminate"/);
    expect(() => mapping({ feilds: {} })).toThrow(/unknown top-level key "feilds"/);
  });

  it('refuses a column that is not in the header, before any row', () => {
    const m = createRowMapper(salsaTarget, mapping({ fields: { email: 'E-mail Address' } }), 'in.csv');
    expect(() => m.bind(['Email', 'Name'])).toThrow(/names "E-mail Address" \(mapping\.json line 3\), not a column of in\.csv \(its columns: Email, Name\)/);
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
    expect(prep({ email: 'a@b.org', firstName: 'x'.repeat(65) })).toMatchObject({ ok: false, error: 'firstName is 65 characters long; Salsa accepts at most 64' });
    expect(prep({ email: 'a@b.org', dateOfBirth: '1999-02-30' })).toMatchObject({ ok: false, error: expect.stringMatching(/^dateOfBirth "1999-02-30" is not a date/) });
    expect(prep({ email: 'a@b.org', gender: 'other' })).toMatchObject({ ok: false, error: expect.stringMatching(/^gender "other" must be MALE or FEMALE/) });
  });
  it('sends no empty or absent field: the JSON of a supporter holds only what the row gives', () => {
    const p = prep({ email: 'a@b.org', firstName: '', addressLine1: '1 Elm Rd', city: 'Austin', state: '', postalCode: '78701' });
    expect(JSON.stringify(p.ok && p.payload)).toBe('{"address":{"addressLine1":"1 Elm Rd","city":"Austin","postalCode":"78701"},"contacts":[{"type":"EMAIL","value":"a@b.org"}]}');
  });
  it('holds back an address without street or city (Salsa replaces a stored address whole) for a second call after a creation', () => {
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

describe('values', () => {
  it('parses calendar dates without moving them', () => {
    expect(parseCalendarDate('1985-12-31')).toBe('1985-12-31');
    expect(parseCalendarDate('1985-12-31T23:30:00-05:00')).toBe('1985-12-31');
    expect(parseCalendarDate('7/4/1976')).toBe('1976-07-04');
    expect(parseCalendarDate('2001-02-29')).toBeUndefined();
    expect(parseCalendarDate('31.12.85', 'DD.MM.YY')).toBe('1985-12-31');
    expect(parseCalendarDate('12/31/1985', 'DD/MM/YYYY')).toBeUndefined();
  });
  it('accepts real addresses and refuses broken ones', () => {
    for (const ok of ['a@b.org', "o'neil+tag@mail.example.co.uk", 'x_y@sub-domain.org']) expect(isEmail(ok), ok).toBe(true);
    for (const bad of ['a@b', 'a b@c.org', 'a@@b.org', '@b.org', 'a@b..org', 'a@-b.org']) expect(isEmail(bad), bad).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { createRowMapper } from '../../src/mapping/mapper.js';
import { parseMapping } from '../../src/mapping/mapping-file.js';
import { isEmail, parseCalendarDate } from '../../src/mapping/values.js';
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
    // A value that cannot be used: the row goes without it, saying which and why…
    const lenient = m.map({ Mail: 'a@b.org', Given: '', Born: '1990-04-03', Sex: '', OK: '', No: '', Street: '', Vol: '' });
    expect(lenient).toMatchObject({ mapped: { dropped: [{ field: 'dateOfBirth', reason: 'dateOfBirth (from "Born"): "1990-04-03" is not a date in the format DD/MM/YYYY' }] } });
    expect('mapped' in lenient && lenient.mapped.fields).toEqual({ email: 'a@b.org', firstName: '', gender: '', emailStatus: 'OPT_IN', addressLine1: '' });
    // …and with --strict-values the row is INVALID, as a bad key always is.
    const m2 = createRowMapper(salsaTarget, spec, 'in.csv', { strictValues: true });
    m2.bind(['Mail', 'Given', 'Born', 'Sex', 'OK', 'No', 'Street', 'Vol', 'First Name']);
    expect(m2.map({ Mail: 'a@b.org', Given: '', Born: '1990-04-03', Sex: '', OK: '', No: '', Street: '', Vol: '' })).toEqual({
      error: 'dateOfBirth (from "Born"): "1990-04-03" is not a date in the format DD/MM/YYYY',
    });
    expect(m2.map({ Mail: 'a@b.org', Given: '', Born: '', Sex: 'X', OK: '', No: '', Street: '', Vol: '' })).toEqual({
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

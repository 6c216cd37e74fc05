import { describe, expect, it } from 'vitest';
import { createRowMapper } from '../../src/mapping/mapper.js';
import { parseMapping } from '../../src/mapping/mapping-file.js';
import { isEmail, parseCalendarDate } from '../../src/mapping/values.js';
import { luminateTarget } from '../../src/targets/luminate/index.js';
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

describe('street lines beyond the second, and a second line under a numbered header', () => {
  const bound = (columns: string[], row: string[]) => {
    const m = createRowMapper(salsaTarget, undefined, 'in.csv');
    const fields = Object.fromEntries(columns.map((c, i) => [c, row[i]!]));
    m.bind(columns, false, [{ row: 1, line: 2, fields }]);
    const r = m.map(fields);
    if (!('mapped' in r)) throw new Error(r.error);
    return r.mapped;
  };

  it("CiviCRM's Supplemental Address 2 joins the second line; nothing is left out, so the address is whole", () => {
    const row = bound(['Email', 'Street Address', 'Supplemental Address 1', 'Supplemental Address 2', 'City', 'State', 'Postal Code'], ['a@b.org', '1 Elm Rd', 'Apt 3B', 'Rear entrance', 'Hartford', 'CT', '06103']);
    expect(row.fields).toMatchObject({ addressLine1: '1 Elm Rd', addressLine2: 'Apt 3B, Rear entrance', city: 'Hartford' });
    expect(row.addressIncomplete).toBeUndefined();
  });

  it('"Dirección 2" beside "Dirección" is the second line; "Adresse" + "Adresse 2" + "Adresse 3" keep every line', () => {
    expect(bound(['Correo electrónico', 'Dirección', 'Dirección 2', 'Ciudad'], ['a@b.org', 'Calle Mayor 5', '4º A', 'Madrid']).fields).toMatchObject({ addressLine1: 'Calle Mayor 5', addressLine2: '4º A' });
    expect(bound(['E-mail', 'Adresse', 'Adresse 2', 'Adresse 3', 'Ville'], ['a@b.org', '5 rue X', 'Bât. B', 'Lieu-dit Y', 'Lyon']).fields).toMatchObject({ addressLine1: '5 rue X', addressLine2: 'Bât. B, Lieu-dit Y' });
  });

  it("an address part with no place in the target (a County, for Luminate) makes that row's address not whole, and only that row's", () => {
    const columns = ['Email', 'Address Line 1', 'Town', 'County', 'Postcode'];
    const m = createRowMapper(luminateTarget, undefined, 'in.csv');
    const rows = [['a@b.org', '1 High St', 'York', 'North Yorkshire', 'YO1 7HH'], ['c@d.org', '2 High St', 'York', '', 'YO1 7HH']].map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]!])));
    m.bind(columns, false, rows.map((fields, i) => ({ row: i + 1, line: i + 2, fields })));
    expect(m.addressGaps()).toEqual(['County']);
    const [a, c] = rows.map((f) => m.map(f));
    expect(a && 'mapped' in a && a.mapped.addressIncomplete).toBe(true);
    expect(c && 'mapped' in c && c.mapped.addressIncomplete).toBeUndefined();
  });
});

it("Luminate's own export names (home_stateprov, home_street2) are read as its address parts", () => {
  const m = createRowMapper(luminateTarget, undefined, 'in.csv');
  m.bind(['cons_id', 'primary_email', 'home_street1', 'home_street2', 'home_city', 'home_stateprov', 'home_zip']);
  expect(Object.fromEntries(m.matches().map((x) => [x.column, x.field]))).toMatchObject({ home_street2: 'primary_address.street2', home_stateprov: 'primary_address.state', home_zip: 'primary_address.zip' });
});

it('a phone a spreadsheet rewrote as 5.03556E+09 goes without it, saying why; a real phone number is kept', () => {
  const m = createRowMapper(salsaTarget, undefined, 'in.csv');
  m.bind(['Email', 'Phone', 'Mobile']);
  const r = m.map({ Email: 'a@b.org', Phone: '5.03556E+09', Mobile: '+1 503 555 0104' });
  if (!('mapped' in r)) throw new Error(r.error);
  expect(r.mapped.fields.homePhone).toBeUndefined();
  expect(r.mapped.fields.cellPhone).toBe('+1 503 555 0104');
  expect(r.mapped.dropped).toEqual([{ field: 'homePhone', reason: expect.stringMatching(/^homePhone "5.03556E\+09" is a phone number a spreadsheet rewrote in scientific notation/) }]);
  const strict = createRowMapper(salsaTarget, undefined, 'in.csv', { strictValues: true });
  strict.bind(['Email', 'Phone']);
  expect(strict.map({ Email: 'a@b.org', Phone: '1.51255E+10' })).toMatchObject({ error: expect.stringMatching(/scientific notation/) });
});

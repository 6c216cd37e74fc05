import { describe, expect, it } from 'vitest';
import { classifyLuminateReply } from '../../src/targets/luminate/client.js';
import { prepareLuminate } from '../../src/targets/luminate/mapper.js';
import { createRowMapper } from '../../src/mapping/mapper.js';
import { luminateTarget } from '../../src/targets/luminate/index.js';

const reply = (status: number, body: unknown) => classifyLuminateReply({ status, headers: {}, text: typeof body === 'string' ? body : JSON.stringify(body) });
const err = (code: string, status = 403) => reply(status, { errorResponse: { code, message: `m${code}` } });

describe('Luminate replies', () => {
  it('maps success messages: updated, created, anything else UPSERTED, with cons_id', () => {
    expect(reply(200, { createOrUpdateConsResponse: { message: 'User updated.', cons_id: '1001002' } })).toMatchObject({ kind: 'results', results: [{ status: 'UPDATED', remoteId: '1001002' }] });
    expect(reply(200, { createOrUpdateConsResponse: { message: 'User created.', cons_id: '7' } })).toMatchObject({ results: [{ status: 'ADDED', remoteId: '7' }] });
    expect(reply(200, { createOrUpdateConsResponse: { message: 'Operation completed', cons_id: ['8'] } })).toMatchObject({ results: [{ status: 'UPSERTED', remoteId: '8' }] });
  });
  it('maps error codes (strings, 403 or suppressed 200) per the API notes', () => {
    expect(err('16')).toMatchObject({ results: [{ status: 'NOT_FOUND', errorCode: '16' }] });
    for (const code of ['8', '10', '11', '12', '13', '15', '22', '23', '25', '35']) expect(err(code, 200)).toMatchObject({ results: [{ status: 'VALIDATION_ERROR', errorCode: code, errorMessage: `code ${code}: m${code}` }] });
    expect(err('1')).toMatchObject({ results: [{ status: 'SYSTEM_ERROR', retryable: true }] });
    expect(err('4')).toMatchObject({ kind: 'abort', errorCode: '4', reason: expect.stringMatching(/Add this machine's IP under Setup > Site Options > Open API Configuration/) });
    for (const code of ['2', '3', '5']) expect(err(code)).toMatchObject({ kind: 'abort', errorCode: code });
    // A one-item list arrives as an object, or as a list: both read the same.
    expect(reply(403, { errorResponse: [{ code: ['16'], message: 'x' }] })).toMatchObject({ results: [{ status: 'NOT_FOUND' }] });
  });
  it('retries 5xx and unreadable answers', () => {
    expect(reply(503, '<html>Service Unavailable</html>')).toMatchObject({ kind: 'retry', httpStatus: 503 });
    expect(reply(200, '{"createOrUpd')).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/unreadable/) });
  });
});

describe('Luminate mapping', () => {
  it('reads another system\'s nested JSON paths by their words; a dotted name in Luminate\'s own groups stays a site field', () => {
    // A webhook log's contact object, flattened: contact.email is no field of the site, it is the email.
    const m = createRowMapper(luminateTarget, undefined, 'events.jsonl');
    m.bind(['contact.email', 'contact.first_name', 'contact.address.city', 'custom_string4']);
    expect(Object.fromEntries(m.matches().map((x) => [x.column, x.field]))).toEqual({
      'contact.email': 'primary_email',
      'contact.first_name': 'name.first',
      'contact.address.city': 'primary_address.city',
      custom_string4: 'custom_string4',
    });
    const own = createRowMapper(luminateTarget, undefined, 'site-export.csv');
    own.bind(['email.primary_address', 'primary_address.street3']);
    expect(own.matches().map((x) => [x.column, x.field])).toContainEqual(['primary_address.street3', 'primary_address.street3']);
  });

  const prep = (fields: Record<string, string>) => prepareLuminate('upsert', { fields, custom: [] });
  it('sends the email as lookup and as the record address, normalises booleans and dates', () => {
    expect(prep({ primary_email: 'A@x.org', 'name.first': 'A', 'email.accepts_email': 'Yes', birth_date: '7/4/1976', custom_string3: 'blue' })).toEqual({
      ok: true,
      key: 'a@x.org',
      lockKeys: ['email:a@x.org'],
      payload: { primary_email: 'A@x.org', 'email.primary_address': 'A@x.org', 'name.first': 'A', 'email.accepts_email': 'true', birth_date: '1976-07-04', custom_string3: 'blue' },
    });
  });
  it('uses cons_id, then member_id, as the key, and checks ids', () => {
    expect(prep({ cons_id: '12', primary_email: 'a@x.org' })).toMatchObject({ ok: true, key: '12', lockKeys: ['cons:12', 'email:a@x.org'] });
    expect(prep({ member_id: 'M-1' })).toMatchObject({ ok: true, key: 'M-1' });
    expect(prep({ cons_id: 'abc' })).toMatchObject({ ok: false, error: expect.stringMatching(/digits only/) });
    expect(prep({ 'name.first': 'x' })).toMatchObject({ ok: false, error: expect.stringMatching(/primary_email is required/) });
    expect(prep({ primary_email: 'a@x.org', add_group_ids: '12' })).toMatchObject({ ok: false, error: expect.stringMatching(/pre-defined/) });
  });
});

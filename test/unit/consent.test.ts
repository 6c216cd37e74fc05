import { describe, expect, it } from 'vitest';
import { readConsentHeader, readConsentValue } from '../../src/mapping/consent.js';

// Consent columns by meaning: headers seen in exports this tool was tried with, and headers that merely sound like
// consent. A header read as consent the wrong way round opts people in who refused: each case says which way.

describe('consent headers', () => {
  it.each<[string, string, string]>([
    ['HasOptedOutOfEmail', 'email', 'opt-out'],
    ['Do Not Email', 'email', 'opt-out'],
    ['No Bulk Emails (User Opt Out)', 'email', 'opt-out'],
    ['Unsubscribed from all email', 'email', 'opt-out'],
    ['EMAIL_BLACKLISTED', 'email', 'opt-out'],
    ['Email delivery disabled', 'email', 'opt-out'],
    ['Do not allow Emails', 'email', 'opt-out'],
    ['Accepts Email Marketing', 'email', 'opt-in'],
    ['Would you like to join our mailing list?', 'email', 'opt-in'],
    ['Would you like to hear from us by email?', 'email', 'opt-in'],
    ['Charity marketing consent', 'email', 'opt-in'],
    ['Nieuwsbrief', 'email', 'opt-in'],
    ['Accepte les e-mails', 'email', 'opt-in'],
    ['Email Marketing Status', 'email', 'status'],
    ['Communication Restrictions', 'email', 'restrictions'],
    ['Accepts SMS Marketing', 'sms', 'opt-in'],
    ['SMS_BLACKLISTED', 'sms', 'opt-out'],
    // Negated, in other words and languages (a third blind trial found each read the wrong way round or not at all).
    ...['Kein Newsletter', 'No Newsletter', 'Newsletter abbestellt', 'Pas de newsletter', 'Sin newsletter', 'Nessuna newsletter', 'Sem newsletter', 'Geen nieuwsbrief', 'Newsletter cancelled', 'Removed from mailing list', 'Email Permission: Denied', 'Bounced', 'Unsubscribe Date', 'Ne plus recevoir', 'Non contattare', 'Não contactar', 'Afmelden', 'Avregistrerad', 'Keine E-Mails', 'Ingen e-post', 'Stop emails', 'Opt-out Status', 'Baja de comunicaciones', 'Remove from mailing list', 'Remove me from the mailing list', 'Leave mailing list', 'Not subscribed', 'Not opted in', 'Never subscribed', 'No suscrito', 'Withdraw consent to email', 'Uitgeschreven', 'Wypisany'].map((h): [string, string, string] => [h, 'email', 'opt-out']),
  ])('%s is %s consent, %s', (header, channel, polarity) => {
    expect(readConsentHeader(header)).toEqual({ channel, polarity });
  });

  it.each(['Not unsubscribed', 'Never unsubscribed', 'No opt-out', 'Nicht abgemeldet', 'Non désabonné', 'Email not blocked', 'WhatsApp opt-in', 'Printed Newsletter', 'Newsletter by post', 'Magazine Subscription', 'Subscription Plan', 'Newsletter Format', 'Days Left', 'Refused Gift Aid', 'Subscribe Date', 'Gift Aid consent', 'Allow photos', 'I accept the terms', 'Subscribe Date', 'Marketing emails opened', 'Mailing State', 'Email Type', 'Photo consent', 'Do Not Phone', 'Do Not Mail', 'Join Date'])(
    '%s is not read as email consent (double negatives: which way a yes goes is a guess)',
    (header) => {
      const r = readConsentHeader(header);
      expect(r === undefined || r.channel !== 'email').toBe(true);
    },
  );
});

describe('consent values, read the column\'s way round', () => {
  it('an opt-out column\'s yes opts out; its no keeps the stored status; never an opt-in', () => {
    for (const v of ['true', 'Yes', '1', 'Y', 'X', 'Do Not Allow', 'blacklisted', '2023-05-04', '12 Jan 2024', 'Opted out on 2024-05-02']) expect(readConsentValue(v, 'opt-out'), v).toBe('out');
    for (const v of ['false', 'No', '0', 'Allow']) expect(readConsentValue(v, 'opt-out'), v).toBe('not-out');
    for (const v of ['true', 'yes', 'Subscribed', 'Allow', 'Active']) expect(readConsentValue(v, 'opt-out'), v).not.toBe('in');
  });
  it('an opt-in column\'s answers, in other languages and in sentences; a negative code is an unsubscription', () => {
    for (const v of ['Yes, please!', 'ja', 'Oui', '1', 'Subscribed', 'Explicit']) expect(readConsentValue(v, 'opt-in'), v).toBe('in');
    for (const v of ['No, thanks', 'nee', 'Non', '0', 'Unsubscribed', '-1', '-3']) expect(readConsentValue(v, 'opt-in'), v).toBe('out');
    for (const v of ['', 'never', 'pending']) expect(readConsentValue(v, 'opt-in'), v).toBe('unknown');
    expect(readConsentValue('Non-marketing contact', 'status')).toBe('unreadable');
  });
  it('a list of restrictions opts out only what restricts email', () => {
    expect(readConsentValue('DoNotCall, DoNotEmail', 'restrictions')).toBe('out');
    expect(readConsentValue('No Contact', 'restrictions')).toBe('out');
    expect(readConsentValue('DoNotMail', 'restrictions')).toBe('unknown');
    expect(readConsentValue('Mail, Phone', 'restrictions')).toBe('unknown');
  });
});

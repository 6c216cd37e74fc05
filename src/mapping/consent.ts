import { headerWords } from './header-words.js';

/**
 * Consent columns read by meaning and polarity. An opt-in column ("Accepts Email Marketing", "Join our mailing
 * list?") says yes for a person who agreed; an opt-out column ("HasOptedOutOfEmail", "Do Not Email", "Unsubscribed
 * from all email") says yes for a person who refused; a status column ("Email Subscription Status") says it in
 * words (subscribed, unsubscribed, bounced). A yes is read the column's way round, never the other.
 *
 * What is never read as consent: "no" in an opt-out column means "did not opt out", which is not an opt-in, so the
 * stored status is left as it is (a record the run creates gets the run's new-record status, opted out unless told).
 */

export type ConsentChannel = 'email' | 'sms' | 'phone' | 'postal';
/**
 * opt-in: yes = agreed; opt-out: yes = refused; status: the values say which (subscribed, unsubscribed, Explicit);
 * restrictions: a list of what not to do (Bloomerang's "DoNotCall, DoNotEmail", Raiser's Edge's solicit codes):
 * an email restriction is an opt-out, anything else says nothing.
 */
export type ConsentPolarity = 'opt-in' | 'opt-out' | 'status' | 'restrictions';
export interface ConsentHeader {
  channel: ConsentChannel;
  polarity: ConsentPolarity;
}
/**
 * What one cell says: opted in, opted out, nothing (keep the stored status), "not opted out" (an opt-out column's
 * no: not a refusal, and not consent either — the stored status is kept, a record the run creates gets the run's
 * new-record status, opted out unless told), or not consent at all.
 */
export type ConsentValue = 'in' | 'out' | 'not-out' | 'unknown' | 'unreadable';

const OUT_PHRASES = ['blacklisted', 'blacklist', 'blocklisted', 'blocklist', 'denylist', 'delivery disabled', 'email disabled', 'emails disabled', 'do not allow', 'not allowed', 'niet gewenst', 'opt out', 'opted out', 'opts out', 'optout', 'optedout', 'unsubscribe', 'unsubscribed', 'do not', 'dont', 'no bulk', 'requests no', 'request no', 'no email', 'no mail', 'no sms', 'no text', 'no phone', 'no call', 'no contact', 'no marketing', 'excluded', 'exclude', 'suppressed', 'suppress', 'blocked', 'desabonne', 'desinscrit', 'ne pas', 'abgemeldet', 'abmeldung', 'baja', 'afgemeld', 'withdrawn', 'revoked'];
/** Words that say an opt-in by themselves: "Email Opt In", "Subscribed", "Newsletter", "Join our mailing list". */
const IN_PHRASES = ['nieuwsbrief', 'rundbrief', 'infobrief', 'boletin', 'notiziario', 'lettre d information', 'opt in', 'opted in', 'opts in', 'optin', 'optedin', 'subscribed', 'subscribe', 'subscription', 'newsletter', 'mailing list', 'abonne', 'inscrit', 'suscrito', 'suscripcion', 'aangemeld', 'stay in touch', 'keep in touch'];
/**
 * Words of agreeing that are consent to email only with a word of marketing or mail beside them: "Accepts Email
 * Marketing", "Consent to contact", "Would you like to hear from us by email?" — never "Gift Aid consent", "Allow
 * photos" or "Accepts terms".
 */
const AGREE_PHRASES = ['hear from', 'email me', 'email you', 'contact me', 'contact you', 'stay informed', 'keep informed', 'keep me', 'accepts', 'accept', 'accepted', 'accepte', 'join', 'joined', 'receive', 'consent', 'consents', 'permission', 'sign up', 'signup', 'agree', 'agrees', 'allow', 'allows', 'einwilligung', 'informativo'];
const MARKETING_WORDS = ['email', 'emails', 'e mail', 'courriel', 'marketing', 'mailing', 'mailings', 'newsletter', 'news', 'updates', 'communications', 'communication', 'contact', 'contacted', 'mail', 'sms', 'text', 'texts', 'messages', 'list'];
/** Words of columns about mail sent, terms agreed or dates: "Marketing emails opened", "I accept the terms", "Subscribe date". */
const NOT_CONSENT = ['opened', 'opens', 'open', 'clicked', 'clicks', 'click', 'delivered', 'sent', 'count', 'rate', 'last', 'date', 'time', 'timestamp', 'terms', 'conditions', 'privacy', 'policy', 'waiver', 'cookies', 'photo', 'photos', 'source', 'method', 'ip', 'frequency', 'reason', 'id'];
const STATUS_WORDS = ['status', 'statut', 'permission', 'interest type', 'preference', 'preferences'];
/** Headers of a list of restrictions: "Communication Restrictions", "Solicit Codes", "Suppressions". */
const RESTRICTION_WORDS = ['restriction', 'restrictions', 'solicit', 'solicitation', 'solicit codes', 'suppression', 'suppressions', 'do not solicit', 'communication preferences', 'communication preference', 'contact preferences', 'contact preference', 'communications preferences'];

const has = (text: string, phrase: string) => text.includes(` ${phrase} `);

/** Whether a header names a consent column, which channel and which way round; undefined when it does not. */
export function readConsentHeader(header: string): ConsentHeader | undefined {
  const words = headerWords(header);
  const text = ` ${words.join(' ')} `;
  if (RESTRICTION_WORDS.some((p) => has(text, p)) && !NOT_CONSENT.some((w) => has(text, w))) return { channel: 'email', polarity: 'restrictions' };
  const out = OUT_PHRASES.some((p) => has(text, p));
  const inn = IN_PHRASES.some((p) => has(text, p)) || (AGREE_PHRASES.some((p) => has(text, p)) && MARKETING_WORDS.some((w) => has(text, w)));
  const status = STATUS_WORDS.some((p) => has(text, p));
  // "Email Marketing Status", "Email permission status", "Email Interest Type": an email status in the vendor's words.
  const emailStatus = status && ['email', 'marketing', 'newsletter', 'subscription', 'mailing list'].some((w) => has(text, w));
  if ((!out && !inn && !emailStatus) || NOT_CONSENT.some((w) => has(text, w))) return undefined;
  // "Do Not Phone", "Accepts SMS Marketing", "Do Not Mail" (post): channels other than email are their own fields.
  const sms = ['sms', 'text', 'texts', 'mobile', 'cell'].some((w) => has(text, w));
  const email = ['email', 'newsletter', 'courriel', 'mailing list', 'bulk'].some((w) => has(text, w));
  const phone = ['phone', 'call', 'calls', 'telephone', 'bellen', 'telefon', 'telefoon'].some((w) => has(text, w));
  const postal = ['mail', 'post', 'postal', 'letter', 'letters'].some((w) => has(text, w)) && !email;
  const channel: ConsentChannel = email ? 'email' : sms ? 'sms' : phone ? 'phone' : postal ? 'postal' : 'email';
  // "Email Subscription Status", "Marketing status": the values say which way (subscribed / unsubscribed).
  const polarity: ConsentPolarity = out ? 'opt-out' : status ? 'status' : 'opt-in';
  if (!out && !inn && channel !== 'email') return undefined;
  return { channel, polarity };
}

const norm = (v: string) => v.normalize('NFD').replace(/[\u0300-\u036f]/g, '').trim().toLowerCase().replace(/[\s_-]+/g, ' ');
const YES = new Set(['yes', 'y', 'true', 't', '1', 'x', 'on', 'checked', 'oui', 'o', 'ja', 'j', 'si', 'sim', 'wel', 'vrai', 'verdadero', 'waar', 'wahr']);
const NO = new Set(['no', 'n', 'false', 'f', '0', 'off', 'unchecked', 'non', 'nein', 'nee', 'nao', 'faux', 'falso', 'onwaar', 'falsch']);
/** Values that say which way by themselves, whatever the header. */
const IN_WORDS = new Set(['subscribed', 'subscriber', 'active', 'explicit', 'implicit', 'express', 'expressed', 'implied', 'allow', 'allowed', 'permitted', 'opted in', 'opt in', 'optin', 'opt_in', 'confirmed', 'consented', 'granted', 'accepted', 'abonne', 'abonnee', 'inscrit', 'inscrite', 'suscrito', 'abonniert', 'aangemeld']);
const OUT_WORDS = new Set(['do not allow', 'not allowed', 'disallow', 'disallowed', 'deny', 'blacklisted', 'blocklisted', 'unsubscribed', 'opted out', 'opt out', 'optout', 'opt_out', 'bounced', 'hard bounce', 'hard bounced', 'soft bounce', 'cleaned', 'complained', 'spam', 'spam report', 'spam complaint', 'suppressed', 'blocked', 'do not email', 'do not contact', 'revoked', 'withdrawn', 'declined', 'denied', 'desabonne', 'desabonnee', 'desinscrit', 'desinscrite', 'abgemeldet', 'baja', 'afgemeld', 'invalid', 'undeliverable']);
/** Values that say nothing about consent: the stored status is left as it is. */
const NEUTRAL = new Set(['never', 'never subscribed', 'not subscribed', 'non subscribed', 'nonsubscribed', 'pending', 'unconfirmed', 'transactional', 'unknown', 'none', 'n/a', 'na', 'not set', 'not specified', 'no response', 'inactive', 'archived']);

/** A restriction that is about email: "DoNotEmail", "Do Not Email", "No Email", "Email Opt Out", "Do Not Contact". */
const EMAIL_RESTRICTION = /\b(do ?not|dont|no|never) ?(e ?mail|email|bulk e ?mail|contact|solicit|solicitation|mail ?ings?)\b|\b(e ?mail|email) ?(opt ?out|opted ?out|unsubscribed?)\b|\bopted ?out\b|\bunsubscribed\b/;

/** One cell of a consent column, read the column's way round. */
export function readConsentValue(value: string, polarity: ConsentPolarity): ConsentValue {
  if (polarity === 'restrictions') {
    // A list: an email restriction in it is an opt-out; a list of others (DoNotCall) or nothing says nothing.
    const items = value.replace(/([a-z])([A-Z])/g, '$1 $2').split(/[,;|/\n]+/).map(norm).filter(Boolean);
    return items.some((i) => EMAIL_RESTRICTION.test(i) && !/\b(mail|post)\b/.test(i.replace(/e ?mail/g, ''))) ? 'out' : 'unknown';
  }
  // Salsa Classic's Receive_Email and others: a negative number is an unsubscription (never Access's -1 for true).
  if (/^-\d+$/.test(value.trim())) return 'out';
  const v = norm(value);
  if (v === '') return 'unknown';
  // In an opt-out column ("Do not allow emails: Allow") a word of consent says the person did not opt out: that
  // keeps a stored status, it never makes an opt-in of the column.
  if (IN_WORDS.has(v)) return polarity === 'opt-out' ? 'not-out' : 'in';
  if (OUT_WORDS.has(v)) return 'out';
  if (NEUTRAL.has(v)) return 'unknown';
  // "Yes, please!", "No, thanks", "Yes please": an answer's first word, when it stands apart ("Non-marketing" is no "non").
  const answer = /^(yes|no|y|n|oui|non|ja|nee|nein|si|sim)\s*(?:[,.!:;]|\s+(?:please|thanks|thank you|i do|i would|sure|definitely)\b)/i.exec(value.trim());
  const first = YES.has(v) || NO.has(v) ? v : answer ? answer[1]!.toLowerCase() : v;
  if (YES.has(first)) return polarity === 'opt-out' ? 'out' : 'in';
  // A "no" to an opt-in question is a refusal; a "no" to "opted out?" is not a refusal, and not an opt-in either.
  if (NO.has(first)) return polarity === 'opt-out' ? 'not-out' : 'out';
  return 'unreadable';
}

/** How a consent column's values read, in words for a person ("true → OPTED OUT; false → left as it is"). */
export function describeConsent(column: string, polarity: ConsentPolarity, values: readonly string[]): string {
  const seen = [...new Set(values.map((v) => v.trim()).filter(Boolean))];
  const by = new Map<ConsentValue, string[]>();
  for (const v of seen) {
    const r = readConsentValue(v, polarity);
    by.set(r, [...(by.get(r) ?? []), `"${v}"`]);
  }
  const part = (r: ConsentValue, what: string) => (by.get(r)?.length ? [`${by.get(r)!.slice(0, 4).join(', ')} → ${what}`] : []);
  const kind = polarity === 'opt-out' ? 'an opt-out column (yes means the person opted out)' : polarity === 'opt-in' ? 'an opt-in column (yes means the person agreed)' : polarity === 'restrictions' ? 'a list of restrictions (an email restriction means the person opted out)' : 'a status column (its words say which)';
  return `${column} is ${kind}: ${[...part('in', 'the person is OPTED IN'), ...part('out', 'the person is OPTED OUT'), ...part('not-out', 'not opted out, which is not consent: the stored status is left as it is, and a record the run creates gets the new-record status'), ...part('unknown', 'says nothing: the stored status is left as it is'), ...part('unreadable', 'not read: the row goes without a status')].join('; ')}`;
}

/** Whether a column's sample reads as consent the header's way (most values read; a column of other words is not). */
export function readsAsConsent(values: readonly string[], polarity: ConsentPolarity): boolean {
  const nonEmpty = values.filter((v) => v.trim() !== '');
  if (nonEmpty.length === 0) return polarity !== 'status';
  const read = nonEmpty.filter((v) => readConsentValue(v, polarity) !== 'unreadable').length;
  // A status column must say something in consent words; yes/no alone in a "status" column is read as opt-in.
  return read / nonEmpty.length >= 0.8;
}

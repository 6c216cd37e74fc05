import { headerWords } from './header-words.js';
import { dateEvidence } from './values.js';

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

/** Words that say an opt-out by themselves: "Unsubscribed", "Email Opt Out", "Bounced", "Abbestellt", "Afmelden". */
const OUT_PHRASES = ['uitgeschreven', 'afmeldt', 'frameldt', 'wypisany', 'cancelou inscricao', 'opt out', 'opted out', 'opts out', 'optout', 'optedout', 'unsubscribe', 'unsubscribed', 'bounced', 'bounce', 'bounces', 'abbestellt', 'abgemeldet', 'abmeldung', 'gekundigt', 'werbewiderspruch', 'desabonne', 'desabonnement', 'desinscrit', 'desinscription', 'descadastrado', 'disiscritto', 'afmelden', 'afgemeld', 'avregistrerad', 'avanmald', 'blacklisted', 'blacklist', 'blocklisted', 'blocklist', 'denylist', 'no bulk', 'requests no', 'request no', 'no email', 'no sms', 'no text', 'no marketing', 'baja', 'niet gewenst', 'ne pas'];
/** Words of refusing that are an opt-out only beside a word of consent: "Newsletter cancelled", "Email Suppressed". */
const REFUSE_PHRASES = ['remove', 'remove me', 'leave', 'withdraw', 'withdrawn', 'object', 'object to', 'objection', 'opposition', 'refus', 'revoca', 'rezygnacja', 'denied', 'deny', 'cancelled', 'canceled', 'declined', 'stopped', 'removed from', 'left', 'stop', 'refuse', 'refuses', 'refused', 'do not', 'dont', 'excluded', 'exclude', 'suppressed', 'suppress', 'blocked', 'withdrawn', 'revoked', 'do not allow', 'not allowed', 'delivery disabled', 'disabled', 'no mail', 'no phone', 'no call', 'no contact', 'widerspruch'];
/**
 * Words that turn a header about consent into one about its refusal, whatever else it says: "Kein Newsletter", "No
 * Newsletter", "Pas de newsletter", "Geen nieuwsbrief", "Ne plus recevoir", "Non contattare".
 */
const NEGATIONS = new Set(['no', 'not', 'non', 'nao', 'nie', 'brak', 'ikke', 'kein', 'keine', 'keinen', 'nicht', 'pas', 'ne', 'sin', 'nessuna', 'nessun', 'sem', 'geen', 'niet', 'ingen', 'never', 'without', 'ohne', 'sans']);
/** Words of consent in the languages read: with a negation they make an opt-out column. */
const CONSENT_WORDS = ['sms', 'text', 'texts', 'call', 'calls', 'phone', 'newsletter', 'nieuwsbrief', 'email', 'emails', 'e mail', 'e mails', 'e post', 'courriel', 'courriels', 'correos', 'correo', 'mailen', 'mailing', 'mailings', 'marketing', 'contact', 'contacter', 'contactar', 'contattare', 'contatar', 'kontaktieren', 'kontakt', 'contacteren', 'recevoir', 'recibir', 'ricevere', 'receber', 'ontvangen', 'erhalten', 'receive', 'werbung', 'nyhetsbrev', 'informativo', 'boletin', 'notiziario'];
/** Words that say an opt-in by themselves: "Email Opt In", "Subscribed", "Newsletter", "Join our mailing list". */
const IN_PHRASES = ['ok to email', 'email ok', 'email allowed', 'emailable', 'wants emails', 'send me emails', 'email subscriber', 'nyhedsbrev', 'nieuwsbrief', 'nyhetsbrev', 'rundbrief', 'infobrief', 'boletin', 'notiziario', 'lettre d information', 'opt in', 'opted in', 'opts in', 'optin', 'optedin', 'subscribed', 'subscribe', 'newsletter', 'mailing list', 'abonne', 'inscrit', 'suscrito', 'suscripcion', 'aangemeld', 'stay in touch', 'keep in touch'];
/**
 * Words of agreeing that are consent to email only with a word of marketing or mail beside them: "Accepts Email
 * Marketing", "Consent to contact", "Would you like to hear from us by email?" — never "Gift Aid consent", "Allow
 * photos" or "Accepts terms".
 */
const AGREE_PHRASES = ['consentimiento', 'consentimento', 'consenso', 'consentement', 'toestemming', 'samtycke', 'samtykke', 'zgoda', 'acepta', 'aceita', 'erlaubt', 'subscription', 'hear from', 'email me', 'email you', 'contact me', 'contact you', 'stay informed', 'keep informed', 'keep me', 'accepts', 'accept', 'accepted', 'accepte', 'join', 'joined', 'receive', 'consent', 'consents', 'permission', 'sign up', 'signup', 'agree', 'agrees', 'allow', 'allows', 'einwilligung', 'informativo'];
const MARKETING_WORDS = ['email', 'emails', 'e mail', 'courriel', 'marketing', 'mailing', 'mailings', 'newsletter', 'news', 'updates', 'communications', 'communication', 'contact', 'contacted', 'mail', 'sms', 'text', 'texts', 'messages', 'list'];
/** Words of columns about mail sent, terms agreed or dates: "Marketing emails opened", "I accept the terms", "Subscribe date". */
const NOT_CONSENT = ['opened', 'opens', 'open', 'clicked', 'clicks', 'click', 'delivered', 'sent', 'count', 'rate', 'last', 'time', 'timestamp', 'format', 'plan', 'level', 'tier', 'terms', 'conditions', 'privacy', 'policy', 'waiver', 'cookies', 'photo', 'photos', 'source', 'method', 'ip', 'frequency', 'reason', 'id'];
const STATUS_WORDS = ['status', 'statut', 'permission', 'interest type', 'preference', 'preferences'];
/** Headers of a list of restrictions: "Communication Restrictions", "Solicit Codes", "Suppressions". */
const RESTRICTION_WORDS = ['restriction', 'restrictions', 'solicit', 'solicitation', 'solicit codes', 'suppression', 'suppressions', 'do not solicit', 'communication preferences', 'communication preference', 'contact preferences', 'contact preference', 'communications preferences'];

const has = (text: string, phrase: string) => text.includes(` ${phrase} `);

/** Whether a header names a consent column, which channel and which way round; undefined when it does not. */
export function readConsentHeader(header: string): ConsentHeader | undefined {
  const words = headerWords(header);
  const text = ` ${words.join(' ')} `;
  if (RESTRICTION_WORDS.some((p) => has(text, p)) && !NOT_CONSENT.some((w) => has(text, w))) return { channel: 'email', polarity: 'restrictions' };
  // A double negative ("Not unsubscribed", "No opt-out", "Nicht abgemeldet", "Email not blocked") is not read at all:
  // which way its yes goes is a guess, and a wrong guess either opts people in or unsubscribes them.
  if (words.some((w, i) => NEGATIONS.has(w) && [...OUT_PHRASES, ...REFUSE_PHRASES].some((p) => ` ${words.slice(i + 1).join(' ')} `.startsWith(` ${p} `)))) return undefined;
  // "Not subscribed", "Never opted in", "No suscrito": a negation turns the words of consent into a refusal too.
  const negated = words.some((w) => NEGATIONS.has(w)) && (CONSENT_WORDS.some((w) => has(text, w)) || IN_PHRASES.some((p) => has(text, p)) || AGREE_PHRASES.some((p) => has(text, p)));

  const consentWord = CONSENT_WORDS.some((w) => has(text, w));
  const out = negated || OUT_PHRASES.some((p) => has(text, p)) || (consentWord && REFUSE_PHRASES.some((p) => has(text, p)));
  const inn = IN_PHRASES.some((p) => has(text, p)) || (AGREE_PHRASES.some((p) => has(text, p)) && MARKETING_WORDS.some((w) => has(text, w)));
  // A date says when, not whether: "Subscribe Date" is no opt-in; "Unsubscribe Date", "Opt-out Date" hold when a
  // person left (a date in them is an opt-out, read so by the values).
  if (has(text, 'date') && !out) return undefined;
  const status = STATUS_WORDS.some((p) => has(text, p));
  // "Email Marketing Status", "Email permission status", "Email Interest Type": an email status in the vendor's words.
  const emailStatus = status && ['email', 'marketing', 'newsletter', 'subscription', 'mailing list'].some((w) => has(text, w));
  if ((!out && !inn && !emailStatus) || NOT_CONSENT.some((w) => has(text, w))) return undefined;
  // "Do Not Phone", "Accepts SMS Marketing", "Do Not Mail" (post): channels other than email are their own fields.
  const sms = ['sms', 'text', 'texts', 'mobile', 'cell'].some((w) => has(text, w));
  // Messaging apps are their own channel: a WhatsApp opt-in is not an email one.
  const messaging = ['whatsapp', 'whats app', 'signal', 'telegram', 'messenger', 'viber'].some((w) => has(text, w));
  // A printed newsletter, a magazine, a newsletter by post: consent to post, not to email.
  const printed = ['print', 'printed', 'paper', 'post', 'postal', 'magazine', 'hard copy', 'letter', 'letters'].some((w) => has(text, w));
  const email = ['email', 'emails', 'e mail', 'courriel', 'mailing list', 'bulk', 'e post', 'correos', 'mailen'].some((w) => has(text, w)) || (!printed && ['newsletter', 'nieuwsbrief', 'nyhetsbrief', 'nyhetsbrev'].some((w) => has(text, w)));
  const phone = ['phone', 'call', 'calls', 'telephone', 'bellen', 'telefon', 'telefoon'].some((w) => has(text, w));
  const postal = (printed || ['mail'].some((w) => has(text, w))) && !email;
  const channel: ConsentChannel = email ? 'email' : sms ? 'sms' : phone || messaging ? 'phone' : postal ? 'postal' : 'email';
  // "Email Subscription Status", "Marketing status": the values say which way (subscribed / unsubscribed).
  const polarity: ConsentPolarity = out ? 'opt-out' : status ? 'status' : 'opt-in';
  if (!out && !inn && channel !== 'email') return undefined;
  return { channel, polarity };
}

const norm = (v: string) => v.normalize('NFD').replace(/[\u0300-\u036f]/g, '').trim().toLowerCase().replace(/[\s_-]+/g, ' ');
const YES = new Set(['yes', 'y', 'true', 't', '1', 'x', 's', 'on', 'checked', 'oui', 'o', 'ja', 'j', 'si', 'sim', 'wel', 'vrai', 'verdadero', 'waar', 'wahr']);
const NO = new Set(['no', 'n', 'false', 'f', '0', 'off', 'unchecked', 'non', 'nein', 'nee', 'nao', 'faux', 'falso', 'onwaar', 'falsch']);
/** Values that say which way by themselves, whatever the header. */
const IN_WORDS = new Set(['suscrito', 'subscribed', 'subscriber', 'active', 'explicit', 'implicit', 'express', 'expressed', 'implied', 'allow', 'allowed', 'permitted', 'opted in', 'opt in', 'optin', 'opt_in', 'confirmed', 'consented', 'granted', 'accepted', 'abonne', 'abonnee', 'inscrit', 'inscrite', 'suscrito', 'abonniert', 'aangemeld']);
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
  // "Opted out on 2024-05-02", "Unsubscribed 12 Jan 2024": the words first, then when.
  if ([...OUT_WORDS].some((w) => v.startsWith(`${w} `))) return 'out';
  if (polarity !== 'opt-out' && [...IN_WORDS].some((w) => v.startsWith(`${w} `))) return 'in';
  // In an opt-out column a date is when the person left ("Unsubscribe Date": 2023-05-04).
  if (polarity === 'opt-out' && dateEvidence(value) !== 'other') return 'out';
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

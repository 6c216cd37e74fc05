/**
 * US states and territories by name, for the address state Salsa checks as a USPS code when the country is the US
 * (or none): exports from Salesforce, HubSpot and forms write "North Carolina" where Engage wants "NC".
 */
const NAMES: Record<string, string> = {
  alabama: 'AL', alaska: 'AK', arizona: 'AZ', arkansas: 'AR', california: 'CA', colorado: 'CO', connecticut: 'CT', delaware: 'DE',
  'district of columbia': 'DC', 'washington dc': 'DC', 'washington d c': 'DC', florida: 'FL', georgia: 'GA', hawaii: 'HI', idaho: 'ID',
  illinois: 'IL', indiana: 'IN', iowa: 'IA', kansas: 'KS', kentucky: 'KY', louisiana: 'LA', maine: 'ME', maryland: 'MD',
  massachusetts: 'MA', michigan: 'MI', minnesota: 'MN', mississippi: 'MS', missouri: 'MO', montana: 'MT', nebraska: 'NE', nevada: 'NV',
  'new hampshire': 'NH', 'new jersey': 'NJ', 'new mexico': 'NM', 'new york': 'NY', 'north carolina': 'NC', 'north dakota': 'ND',
  ohio: 'OH', oklahoma: 'OK', oregon: 'OR', pennsylvania: 'PA', 'rhode island': 'RI', 'south carolina': 'SC', 'south dakota': 'SD',
  tennessee: 'TN', texas: 'TX', utah: 'UT', vermont: 'VT', virginia: 'VA', washington: 'WA', 'west virginia': 'WV', wisconsin: 'WI',
  wyoming: 'WY', 'puerto rico': 'PR', guam: 'GU', 'us virgin islands': 'VI', 'virgin islands': 'VI', 'american samoa': 'AS',
  'northern mariana islands': 'MP',
};
const US = /^(us|usa|u s a?|united states( of america)?|america)$/;

const plain = (v: string) => v.toLowerCase().replace(/[.]/g, ' ').replace(/\s+/g, ' ').trim();

/** USPS codes of the states, territories and military post offices Salsa takes for a US address. */
const CODES = new Set([...Object.values(NAMES), 'FM', 'MH', 'PW', 'AA', 'AE', 'AP']);

/**
 * Whether a state Salsa would refuse: in a US address (or one that names no country), neither a USPS code nor a
 * state's name — a value from another column read as the state, like an account's status ("enabled").
 */
export function notAUsState(state: string, country: string | undefined): boolean {
  if (country && !US.test(plain(country))) return false;
  return !CODES.has(state.trim().toUpperCase()) && NAMES[plain(state)] === undefined;
}

/** A US state written out ("North Carolina"), as its code, where the address is in the US or names no country. */
export function usStateCode(state: string, country: string | undefined): string | undefined {
  if (country && !US.test(plain(country))) return undefined;
  return NAMES[plain(state)];
}

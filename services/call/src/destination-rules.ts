import { isSupportedCountry, type NumberType, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Numbers callgate never dials, decided from libphonenumber's metadata (the "max" set, which knows
 * number types): a wrong or hostile `to` must not cost money, reach an emergency service, or call
 * callgate itself. Every refusal says what the number is and why, so a person can act on it.
 */

/**
 * Types that cost the caller far more than a call, or where nobody can talk. UAN (non-geographic
 * company numbers, e.g. UK 03, billed as geographic), toll-free and VoIP numbers stay dialable:
 * businesses answer on them. PERSONAL_NUMBER is refused for UK 070 style follow-me numbers, a known
 * premium-fraud route (in NANP it is the 5XX codes, which businesses do not use for voice).
 */
const REFUSED_TYPES: Partial<Record<NonNullable<NumberType>, { what: string; rule: string }>> = {
  PREMIUM_RATE: { what: 'a premium-rate number', rule: 'premium-rate numbers' },
  SHARED_COST: { what: 'a shared-cost number', rule: 'shared-cost numbers' },
  PERSONAL_NUMBER: {
    what: 'a personal (follow-me) number, often billed at premium rates',
    rule: 'personal numbers',
  },
  PAGER: { what: 'a pager number, where nobody can talk', rule: 'pagers' },
  VOICEMAIL: { what: 'a voicemail-access number', rule: 'voicemail-access numbers' },
};

/** Calling codes of no country: satellite phones and international services, billed at high rates. */
const NON_GEOGRAPHIC: Readonly<Record<string, string>> = {
  '800': 'an international freephone number',
  '808': 'an international shared-cost number',
  '870': 'an Inmarsat satellite number',
  '878': 'a universal personal telecommunications number',
  '881': 'a satellite phone number (Global Mobile Satellite System)',
  '882': 'an international networks number (satellite and maritime operators)',
  '883': 'an international networks number',
  '888': 'a number of the UN humanitarian network',
  '979': 'an international premium-rate number',
};

/**
 * Emergency numbers are short codes, never E.164: a country code followed by one is no valid number,
 * and is named as emergency-adjacent. Only used to word the refusal of an invalid number, so a valid
 * number that happens to begin with these digits (e.g. a Paris number 1 12…) is unaffected.
 */
const EMERGENCY_CODES = ['112', '911', '999', '000', '110', '119'];

/**
 * The default of DENIED_DESTINATION_COUNTRIES: countries that carriers and fraud surveys (CFCA) name
 * again and again as terminating points of international revenue share fraud (IRSF), where a hijacked
 * account's calls earn the fraudster a share of high termination rates, and where few legitimate
 * voice calls from callgate's users go. Like Twilio's Voice Geographic Permissions, which ship
 * high-risk destinations switched off, an operator opts in: remove a code from the list, or set the
 * variable to `none`. Entries may also be number ranges ("+1876"); numbers of no country (satellite,
 * +882/+883) are refused anyway, above.
 */
export const DEFAULT_DENIED_DESTINATIONS: readonly string[] = [
  // Pacific island nations with small numbering plans, long abused for IRSF.
  ...['CK', 'FM', 'KI', 'MH', 'NR', 'NU', 'PG', 'PW', 'SB', 'TK', 'TO', 'TV', 'VU', 'WF', 'WS'],
  // African destinations with the highest termination rates and fraud reports.
  ...['CD', 'CF', 'DJ', 'ER', 'GM', 'GN', 'GW', 'KM', 'LR', 'MR', 'SL', 'SO', 'ST', 'TD'],
  // Remote territories and others with premium termination: Cuba, North Korea, Diego Garcia, St Helena,
  // the Falklands, Ascension, Norfolk Island.
  ...['CU', 'KP', 'IO', 'SH', 'FK', 'AC', 'NF'],
];

/** The value of DENIED_DESTINATION_COUNTRIES that turns the deny list off (an empty value means "unset"). */
export const NO_DENIED_DESTINATIONS = 'none';

export interface DestinationRules {
  /** The account's caller ids (CALLER_IDS): dialling one calls callgate itself. */
  accountCallerIds: readonly string[];
  /** The caller id of this call. */
  from: string;
  /**
   * Countries (ISO 3166-1 alpha-2) and number ranges ("+1876") never called (DENIED_DESTINATION_COUNTRIES),
   * checked before the allow-lists: an allow-list cannot reopen them.
   */
  denied: readonly string[];
  /** ISO 3166-1 alpha-2 codes the account may call (ALLOWED_DESTINATION_COUNTRIES); empty: any. */
  accountCountries: readonly string[];
  /** The same for the user (their profile); empty: any the account allows. */
  userCountries: readonly string[];
}

const regionName = new Intl.DisplayNames(['en'], { type: 'region' });
const countryName = (code: string) => `${code} (${regionName.of(code) ?? code})`;

/** Why `to` may not be dialled, as a sentence about the number; undefined when it may be. */
export function destinationRefusal(to: string, rules: DestinationRules): string | undefined {
  const number = parsePhoneNumberFromString(to);
  if (!number) return `${to} has no country calling code in use; check the number`;
  // libphonenumber drops a national prefix written after the country code (+1 1 415…, +44 0 20…). The
  // number checked here must be the number dialled and the one an idempotency key is bound to, so a
  // number that is not already in that form is refused with the form to send, never silently rewritten.
  if (number.number !== to) return `${to} is not a valid number; did you mean ${number.number}?`;
  const shown = `+${number.countryCallingCode}${number.nationalNumber.slice(0, 3)}…`;
  if (rules.accountCallerIds.includes(number.number) || number.number === rules.from) {
    return `${to} is one of callgate's own caller ids; a call to it would reach callgate itself`;
  }
  const nonGeographic = NON_GEOGRAPHIC[number.countryCallingCode];
  if (nonGeographic) return `${shown} is ${nonGeographic}; callgate dials only numbers of a country`;
  if (!number.isValid()) {
    const emergency = EMERGENCY_CODES.find((code) => number.nationalNumber.startsWith(code));
    if (emergency) {
      return `${shown} begins with ${emergency}, an emergency number; callgate never dials emergency numbers or numbers that look like them`;
    }
    const plan = number.country ? countryName(number.country) : `+${number.countryCallingCode}`;
    return `${to} is not a valid number in the numbering plan of ${plan}; check the digits`;
  }
  const country = number.country;
  if (!country) return `${shown} belongs to no country; callgate dials only numbers of a country`;
  const type = number.getType();
  const refused = type && REFUSED_TYPES[type];
  if (refused) return `${shown} is ${refused.what}; callgate does not dial ${refused.rule}`;
  const denied = rules.denied.find((entry) =>
    entry.startsWith('+') ? number.number.startsWith(entry) : entry === country,
  );
  if (denied) {
    const where = denied.startsWith('+') ? `in the range ${denied}…` : `in ${countryName(country)}`;
    return (
      `${to} is ${where}, which the account's DENIED_DESTINATION_COUNTRIES refuses (by default it lists destinations ` +
      `at high risk of toll fraud, international revenue share fraud); an operator can remove ${denied} from ` +
      `DENIED_DESTINATION_COUNTRIES, or set it to ${NO_DENIED_DESTINATIONS} to turn the list off`
    );
  }
  for (const [list, whose] of [
    [rules.accountCountries, "the account's ALLOWED_DESTINATION_COUNTRIES"],
    [rules.userCountries, 'the allowed destination countries of your profile'],
  ] as const) {
    if (list.length > 0 && !list.includes(country)) {
      return `${to} is in ${countryName(country)}; calls may go only to ${list.join(', ')} (${whose})`;
    }
  }
  return undefined;
}

/** Reads an allow-list of ISO 3166-1 alpha-2 codes ("US, ca"); throws naming the codes it does not know. */
export function parseCountryList(value: string): string[] {
  const codes = value
    .split(',')
    .map((code) => code.trim().toUpperCase())
    .filter(Boolean);
  const unknown = codes.filter((code) => !isSupportedCountry(code));
  if (unknown.length > 0) {
    throw new Error(
      `${unknown.join(', ')}: not ISO 3166-1 alpha-2 codes of countries with phone numbers (e.g. US, GB, DE)`,
    );
  }
  return [...new Set(codes)];
}

/**
 * Reads DENIED_DESTINATION_COUNTRIES: ISO 3166-1 alpha-2 codes and number ranges (+ and 1 to 7 digits,
 * e.g. "CU, +1876"), or `none`; throws naming the entries it does not understand.
 */
export function parseDenyList(value: string): string[] {
  if (value.trim().toLowerCase() === NO_DENIED_DESTINATIONS) return [];
  const entries = value
    .split(',')
    .map((entry) => entry.trim().toUpperCase())
    .filter(Boolean);
  const ranges = entries.filter((entry) => entry.startsWith('+'));
  const badRanges = ranges.filter((entry) => !/^\+[1-9]\d{0,6}$/.test(entry));
  if (badRanges.length > 0) {
    throw new Error(`${badRanges.join(', ')}: a number range is + and 1 to 7 digits (e.g. +1876)`);
  }
  return [...new Set([...parseCountryList(entries.filter((entry) => !entry.startsWith('+')).join(',')), ...ranges])];
}

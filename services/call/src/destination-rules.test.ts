/**
 * Destination rules: numbers that cost far more than a call, reach (or look like) an emergency
 * service, belong to no country or to callgate itself are refused with the reason; the allow-lists of
 * the account and of the user narrow the countries; the sandbox's fictional 555 numbers stay dialable.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '@callgate/common';
import { SANDBOX_NUMBERS } from '@callgate/sandbox';
import { callConfigShape } from './config.js';
import {
  DEFAULT_DENIED_DESTINATIONS,
  type DestinationRules,
  destinationRefusal,
  parseCountryList,
  parseDenyList,
} from './destination-rules.js';

const ACCOUNT = '+15005550006';
const rules = (overrides: Partial<DestinationRules> = {}): DestinationRules => ({
  accountCallerIds: [ACCOUNT],
  from: ACCOUNT,
  denied: [],
  accountCountries: [],
  userCountries: [],
  ...overrides,
});

describe('numbers callgate never dials', () => {
  const refused: [string, string, RegExp][] = [
    [
      'US premium rate (900)',
      '+19005550123',
      /^\+1900… is a premium-rate number; callgate does not dial premium-rate numbers$/,
    ],
    ['UK premium rate (09)', '+449012345678', /^\+44901… is a premium-rate number;/],
    [
      'German shared cost (0180)',
      '+4918011234567',
      /^\+49180… is a shared-cost number; callgate does not dial shared-cost numbers$/,
    ],
    ['French shared cost (081)', '+33810123456', /is a shared-cost number/],
    [
      'UK personal number (070)',
      '+447012345678',
      /^\+44701… is a personal \(follow-me\) number, often billed at premium rates;/,
    ],
    [
      'area code 976 (not in the plan)',
      '+19762223333',
      /^\+19762223333 is not a valid number in the numbering plan of \+1; check the digits$/,
    ],
    [
      '911 behind +1',
      '+19112223333',
      /^\+1911… begins with 911, an emergency number; callgate never dials emergency numbers/,
    ],
    ['999 behind +44', '+449991234567', /^\+44999… begins with 999, an emergency number/],
    ['112 behind +49', '+4911212345678', /^\+49112… begins with 112, an emergency number/],
    [
      'Inmarsat (+870)',
      '+870773111111',
      /^\+870773… is an Inmarsat satellite number; callgate dials only numbers of a country$/,
    ],
    ['international networks (+882)', '+882161111111', /^\+882161… is an international networks number/],
    ['Iridium (+8816)', '+881612345678', /is a satellite phone number/],
    [
      'the account caller id',
      ACCOUNT,
      /^\+15005550006 is one of callgate's own caller ids; a call to it would reach callgate itself$/,
    ],
    ['the fictional area code 555', '+15551234567', /is not a valid number in the numbering plan/],
    // libphonenumber reads these as +14155550002 and +442079460000: what is checked must be what is dialled.
    [
      'a NANP number with its national prefix after +1',
      '+114155550002',
      /^\+114155550002 is not a valid number; did you mean \+14155550002\?$/,
    ],
    ['a UK number with its trunk 0 after +44', '+4402079460000', /did you mean \+442079460000\?$/],
  ];
  for (const [what, to, message] of refused) {
    it(`refuses ${what}, saying why`, () => {
      assert.match(destinationRefusal(to, rules()) ?? 'dialled', message);
    });
  }

  it("refuses the call's own caller id (a user's number used as from)", () => {
    assert.match(destinationRefusal('+14155550123', rules({ from: '+14155550123' })) ?? 'dialled', /own caller ids/);
  });

  it('dials ordinary, mobile, toll-free and UAN numbers, and a Paris number that begins with 15 (SAMU is 15)', () => {
    for (const to of [
      '+4930123456',
      '+4915112345678',
      '+18005550199',
      '+443001234567',
      '+33153123456',
      '+61291234567',
    ]) {
      assert.equal(destinationRefusal(to, rules()), undefined, to);
    }
  });

  it('dials every sandbox persona number (fictional 555-01xx numbers libphonenumber counts as valid US numbers), also with ALLOWED_DESTINATION_COUNTRIES=US and the default deny list', () => {
    for (const to of Object.values(SANDBOX_NUMBERS)) {
      assert.equal(destinationRefusal(to, rules({ accountCountries: ['US'] })), undefined, to);
      assert.equal(destinationRefusal(to, rules({ denied: DEFAULT_DENIED_DESTINATIONS })), undefined, to);
    }
  });
});

describe('allowed destination countries', () => {
  it("the account's list refuses other countries, naming the country and the list", () => {
    assert.equal(
      destinationRefusal('+442071234567', rules({ accountCountries: ['US', 'CA'] })),
      "+442071234567 is in GB (United Kingdom); calls may go only to US, CA (the account's ALLOWED_DESTINATION_COUNTRIES)",
    );
    assert.equal(destinationRefusal('+16045551234', rules({ accountCountries: ['US', 'CA'] })), undefined);
  });

  it("the user's list narrows the account's", () => {
    const both = rules({ accountCountries: ['US', 'CA'], userCountries: ['CA'] });
    assert.equal(
      destinationRefusal('+14155550001', both),
      '+14155550001 is in US (United States); calls may go only to CA (the allowed destination countries of your profile)',
    );
    assert.equal(destinationRefusal('+16045551234', both), undefined);
  });

  it('ALLOWED_DESTINATION_COUNTRIES is read case-insensitively and refused at start-up when a code is unknown', () => {
    assert.deepEqual(parseCountryList(' us, CA ,us'), ['US', 'CA']);
    assert.deepEqual(parseCountryList(''), []);
    const env = { TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`, TWILIO_AUTH_TOKEN: 'x' };
    assert.deepEqual(
      loadConfig('call', callConfigShape, { ...env, ALLOWED_DESTINATION_COUNTRIES: 'us,gb' })
        .ALLOWED_DESTINATION_COUNTRIES,
      ['US', 'GB'],
    );
    assert.throws(
      () => loadConfig('call', callConfigShape, { ...env, ALLOWED_DESTINATION_COUNTRIES: 'US,XX,UK' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /ALLOWED_DESTINATION_COUNTRIES/.test(error.message) &&
        /XX, UK: not ISO 3166-1 alpha-2 codes/.test(error.message),
    );
  });
});

describe('denied destinations (DENIED_DESTINATION_COUNTRIES)', () => {
  const env = { TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`, TWILIO_AUTH_TOKEN: 'x' };
  const denied = (value?: string) =>
    loadConfig('call', callConfigShape, value === undefined ? env : { ...env, DENIED_DESTINATION_COUNTRIES: value })
      .DENIED_DESTINATION_COUNTRIES;

  it('by default refuses high-risk (IRSF) countries, saying which rule refused and how an operator changes it', () => {
    assert.deepEqual(denied(), [...DEFAULT_DENIED_DESTINATIONS]);
    assert.equal(
      destinationRefusal('+5351234567', rules({ denied: denied() })),
      "+5351234567 is in CU (Cuba), which the account's DENIED_DESTINATION_COUNTRIES refuses (by default it lists " +
        'destinations at high risk of toll fraud, international revenue share fraud); an operator can remove CU ' +
        'from DENIED_DESTINATION_COUNTRIES, or set it to none to turn the list off',
    );
    for (const to of ['+68271234', '+25271123456', '+6907290', '+8501921234567']) {
      assert.match(
        destinationRefusal(to, rules({ denied: denied() })) ?? 'dialled',
        /DENIED_DESTINATION_COUNTRIES/,
        to,
      );
    }
    for (const to of ['+4930123456', '+442071234567', '+16045551234', '+33153123456', '+61291234567']) {
      assert.equal(destinationRefusal(to, rules({ denied: denied() })), undefined, to);
    }
  });

  it('is applied before the allow-lists: allowing a denied country does not reopen it', () => {
    const refusal = destinationRefusal(
      '+5351234567',
      rules({ denied: ['CU'], accountCountries: ['CU'], userCountries: ['CU'] }),
    );
    assert.match(refusal ?? 'dialled', /DENIED_DESTINATION_COUNTRIES refuses/);
  });

  it('takes number ranges; none turns it off; unknown entries stop the service at start-up naming them', () => {
    assert.deepEqual(denied('cu, +1876 ,CU'), ['CU', '+1876']);
    assert.match(
      destinationRefusal('+18765550123', rules({ denied: ['+1876'] })) ?? 'dialled',
      /^\+18765550123 is in the range \+1876…, which the account's DENIED_DESTINATION_COUNTRIES refuses/,
    );
    assert.equal(destinationRefusal('+14155550001', rules({ denied: ['+1876'] })), undefined);
    assert.deepEqual(denied('none'), []);
    assert.deepEqual(parseDenyList(' NONE '), []);
    assert.equal(destinationRefusal('+5351234567', rules({ denied: denied('none') })), undefined);
    assert.throws(
      () => denied('CU,XX,+0123,+12345678'),
      (error: unknown) =>
        error instanceof ConfigError &&
        /DENIED_DESTINATION_COUNTRIES/.test(error.message) &&
        /\+0123, \+12345678: a number range is \+ and 1 to 7 digits/.test(error.message),
    );
    assert.throws(() => denied('CU,XX'), /XX: not ISO 3166-1 alpha-2 codes/);
  });
});

/** E.164: a plus, a country code that does not start with 0, at most 15 digits in all. */
const E164 = /^\+[1-9]\d{6,14}$/;
const NANP = /^\+1(\d{3})(\d{3})(\d{4})$/;

export const isE164 = (value: string): boolean => E164.test(value);

/** Twilio's `*_formatted` fields: North American numbers as "(415) 867-5309", others stay E.164. */
export function displayNumber(e164: string): string {
  const nanp = NANP.exec(e164);
  return nanp ? `(${nanp[1]}) ${nanp[2]}-${nanp[3]}` : e164;
}

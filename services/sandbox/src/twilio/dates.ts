/** Twilio's date format: RFC 2822 in UTC with a numeric zone, e.g. "Tue, 31 Aug 2010 20:36:28 +0000". */
export function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

import { createHash } from 'node:crypto';
import { rfc2822 } from './dates.js';
import type { CallRecord } from './lifecycle.js';
import { displayNumber } from './phone-numbers.js';

export const API_VERSION = '2010-04-01';

/** The Call resource as api.twilio.com returns it: snake_case, strings for numbers, null for "empty". */
export interface CallResource {
  account_sid: string;
  annotation: null;
  answered_by: string | null;
  api_version: string;
  caller_name: null;
  date_created: string;
  date_updated: string;
  direction: 'outbound-api';
  duration: string | null;
  end_time: string | null;
  forwarded_from: null;
  from: string;
  from_formatted: string;
  group_sid: null;
  parent_call_sid: null;
  phone_number_sid: string;
  price: string | null;
  price_unit: 'USD';
  queue_time: string;
  sid: string;
  start_time: string | null;
  status: string;
  subresource_uris: Record<string, string>;
  to: string;
  to_formatted: string;
  trunk_sid: null;
  uri: string;
}

const SUBRESOURCES = {
  notifications: 'Notifications',
  recordings: 'Recordings',
  payments: 'Payments',
  events: 'Events',
  siprec: 'Siprec',
  streams: 'Streams',
  transcriptions: 'Transcriptions',
  user_defined_message_subscriptions: 'UserDefinedMessageSubscriptions',
  user_defined_messages: 'UserDefinedMessages',
};

export const callPath = (accountSid: string, callSid: string) =>
  `/${API_VERSION}/Accounts/${accountSid}/Calls/${callSid}`;

export function callResource(call: Readonly<CallRecord>): CallResource {
  const base = callPath(call.accountSid, call.sid);
  const date = (ms: number | undefined) => (ms === undefined ? null : rfc2822(ms));
  return {
    account_sid: call.accountSid,
    annotation: null,
    answered_by: call.answeredBy ?? null,
    api_version: API_VERSION,
    caller_name: null,
    date_created: rfc2822(call.dateCreated),
    date_updated: rfc2822(call.dateUpdated),
    direction: 'outbound-api',
    duration: call.durationSeconds === undefined ? null : String(call.durationSeconds),
    end_time: date(call.endTime),
    forwarded_from: null,
    from: call.from,
    from_formatted: displayNumber(call.from),
    group_sid: null,
    parent_call_sid: null,
    phone_number_sid: phoneNumberSid(call.from),
    price: call.price ?? null,
    price_unit: 'USD',
    queue_time: String(call.startTime === undefined ? 0 : call.startTime - call.dateCreated),
    sid: call.sid,
    start_time: date(call.startTime),
    status: call.status,
    subresource_uris: Object.fromEntries(
      Object.entries(SUBRESOURCES).map(([key, name]) => [key, `${base}/${name}.json`]),
    ),
    to: call.to,
    to_formatted: displayNumber(call.to),
    trunk_sid: null,
    uri: `${base}.json`,
  };
}

/** The caller id's resource; stable per number, as a real account's would be. */
function phoneNumberSid(from: string): string {
  return `PN${createHash('sha256').update(from).digest('hex').slice(0, 32)}`;
}

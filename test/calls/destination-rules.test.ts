/**
 * Destination rules from outside: PlaceCall (gRPC) and makePhoneCall (MCP) refuse numbers callgate
 * never dials with INVALID_ARGUMENT / -32602 naming the reason, before any credit is held or any call
 * recorded; ALLOWED_DESTINATION_COUNTRIES and a user's own list narrow the countries; the sandbox's
 * numbers stay dialable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import {
  ACCOUNT_CALLER_ID,
  balanceOf,
  type CallSystem,
  NUMBERS,
  newUser,
  placeRequest,
  rejection,
  SIGNUP_CREDITS,
  startCallSystem,
} from '../support/calls.js';
import { httpClient, tokenFor } from '../support/system.js';

let s: CallSystem;
before(async () => {
  s = await startCallSystem({ ALLOWED_DESTINATION_COUNTRIES: 'US,CA' });
});
after(async () => {
  await s.stop();
});

async function nothingHeldOrRecorded(userId: string): Promise<void> {
  assert.deepEqual((await s.call.listCalls({ userId })).calls, []);
  assert.deepEqual(await balanceOf(s.credit, userId), { available: SIGNUP_CREDITS, held: 0 });
}

describe('PlaceCall refuses numbers callgate never dials', () => {
  const refused: [string, string, RegExp][] = [
    [
      'a premium-rate number',
      '+19005550123',
      /^to: \+1900… is a premium-rate number; callgate does not dial premium-rate numbers$/,
    ],
    ['an emergency-adjacent number', '+19112223333', /^to: \+1911… begins with 911, an emergency number/],
    ['an Inmarsat number', '+870773111111', /^to: \+870773… is an Inmarsat satellite number/],
    ['the caller id itself', ACCOUNT_CALLER_ID, /^to: \+15005550006 is one of callgate's own caller ids/],
    [
      'a country outside ALLOWED_DESTINATION_COUNTRIES',
      '+442071234567',
      /^to: \+442071234567 is in GB \(United Kingdom\); calls may go only to US, CA \(the account's ALLOWED_DESTINATION_COUNTRIES\)$/,
    ],
  ];
  for (const [what, to, message] of refused) {
    it(`${what} is INVALID_ARGUMENT naming to and the reason; nothing is held or recorded`, async () => {
      const userId = await newUser(s.credit);
      const failure = await rejection(s.call.placeCall(placeRequest(userId, { to })));
      assert.equal(failure.code, status.INVALID_ARGUMENT);
      assert.equal(failure.meta.field, 'to');
      assert.match(failure.details, message);
      await nothingHeldOrRecorded(userId);
    });
  }

  it("a user's allowed destination countries (profile) narrow the account's", async (t) => {
    if (!s.db) {
      t.skip('needs DATABASE_URL: the list is set by an administrator in the database');
      return;
    }
    const userId = await newUser(s.credit);
    await s.db.query("UPDATE credits.users SET allowed_destination_countries = '{CA}' WHERE user_id = $1", [userId]);
    const { profile } = await s.credit.getProfile({ userId });
    assert.deepEqual(profile?.allowedDestinationCountries, ['CA']);
    const failure = await rejection(s.call.placeCall(placeRequest(userId, { to: NUMBERS.answers })));
    assert.equal(failure.code, status.INVALID_ARGUMENT);
    assert.equal(
      failure.details,
      'to: +14155550001 is in US (United States); calls may go only to CA (the allowed destination countries of your profile)',
    );
    await nothingHeldOrRecorded(userId);
    await assert.rejects(
      s.db.query("UPDATE credits.users SET allowed_destination_countries = '{usa}' WHERE user_id = $1", [userId]),
      /users_allowed_destination_countries_iso/,
      'the database keeps the list to upper-case two-letter codes',
    );
  });

  it('a number in a high-risk country is refused by the default DENIED_DESTINATION_COUNTRIES, before the allow-list', async () => {
    const userId = await newUser(s.credit);
    const failure = await rejection(s.call.placeCall(placeRequest(userId, { to: '+5351234567' })));
    assert.equal(failure.code, status.INVALID_ARGUMENT);
    assert.equal(failure.meta.field, 'to');
    assert.match(
      failure.details,
      /^to: \+5351234567 is in CU \(Cuba\), which the account's DENIED_DESTINATION_COUNTRIES refuses .*remove CU from DENIED_DESTINATION_COUNTRIES, or set it to none/,
    );
    await nothingHeldOrRecorded(userId);
  });

  it('a sandbox number in an allowed country is placed', async () => {
    const userId = await newUser(s.credit);
    const placed = await s.call.placeCall(placeRequest(userId, { to: NUMBERS.busy }));
    assert.equal(placed.call?.to, NUMBERS.busy);
    assert.notEqual(placed.call?.status, 'CALL_STATUS_FAILED');
  });
});

describe('makePhoneCall through the gateway', () => {
  // The gateway throws INVALID_ARGUMENT as JSON-RPC invalid params; inside tools/call the MCP server
  // hands it to the model as a tool result with isError (input errors are tool errors since 2025-11-25).
  it('a premium-rate number is refused with the reason, and nothing is held', async () => {
    const userId = await newUser(s.credit, 'destination');
    const client = await httpClient(s.system, tokenFor(s.system, userId));
    try {
      const result = await client.callTool({
        name: 'makePhoneCall',
        arguments: { to: '+19005550123', task: 'Ask about the weather.' },
      });
      assert.equal(result.isError, true);
      assert.deepEqual(result.content, [
        {
          type: 'text',
          text: 'to: +1900… is a premium-rate number; callgate does not dial premium-rate numbers',
        },
      ]);
      await nothingHeldOrRecorded(userId);
    } finally {
      await client.close();
    }
  });
});

/**
 * Found from outside (attack2): a lone UTF-16 surrogate (valid in a JSON string as an escape such as
 * "\ud800") in a makePhoneCall string is neither refused nor kept: on its way over gRPC it becomes three
 * U+FFFD characters. A firstMessage "\udc00" is stored (and would be spoken) as "���", and two different
 * idempotency keys that differ only in a lone surrogate become the same key, so the second call is
 * refused as "already used for a different call". Either refuse such text (as NUL is refused) or keep it
 * exactly; never change it silently.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { LocalSystem } from '../../scripts/local-system.js';
import { NUMBERS } from '../support/calls.js';
import { httpClient, startTestSystem, tokenFor } from '../support/system.js';

let system: LocalSystem;
let client: Client;
before(async () => {
  system = await startTestSystem();
  client = await httpClient(system, tokenFor(system, `attack2-${randomUUID()}`));
});
after(async () => {
  await client.close();
  await system.stop();
});

type CallResult = {
  isError?: boolean;
  content: { text: string }[];
  structuredContent?: { call: Record<string, unknown> };
};
const place = async (args: Record<string, unknown>) =>
  (await client.callTool({
    name: 'makePhoneCall',
    arguments: { to: NUMBERS.answers, task: 'Ask for the opening hours', ...args },
  })) as CallResult;

describe('lone surrogates in makePhoneCall strings', () => {
  it('a firstMessage with a lone surrogate is refused or kept exactly, not turned into U+FFFD', async () => {
    const firstMessage = 'Hello \udc00 there';
    const result = await place({ firstMessage, idempotencyKey: `a2-first-${randomUUID()}` });
    if (result.isError) return;
    assert.equal(result.structuredContent?.call.firstMessage, firstMessage);
  });

  it('idempotency keys that differ only in a lone surrogate are not the same key', async () => {
    const stem = `a2-key-${randomUUID()}-`;
    const first = await place({ idempotencyKey: `${stem}\ud800`, task: 'Ask for the opening hours' });
    const second = await place({ idempotencyKey: `${stem}\udfff`, task: 'Book a table for two' });
    if (first.isError && second.isError) {
      // Refused as text that is not well-formed: say so, not that the key was used before.
      assert.doesNotMatch(second.content[0]?.text ?? '', /already used/);
      return;
    }
    assert.ok(!second.isError, `second call refused: ${second.content[0]?.text}`);
    assert.notEqual(second.structuredContent?.call.callId, first.structuredContent?.call.callId);
  });
});

/**
 * makePhoneCall refuses a lone UTF-16 surrogate in stored text, naming the field (tools/schemas.ts text()).
 * Found from outside (attack2 of issue 17): a lone surrogate (valid in a JSON string as an escape such as
 * "\ud800") was neither refused nor kept: on its way over gRPC it became U+FFFD. A firstMessage "\udc00"
 * was stored (and would be spoken) as "\ufffd", and two idempotency keys differing only in a lone
 * surrogate became the same key, so the second call was refused as "already used for a different call".
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
    assert.ok(result.isError, `placed: ${JSON.stringify(result.structuredContent?.call.firstMessage)}`);
    assert.match(result.content[0]?.text ?? '', /firstMessage\b[^:]*: must not contain a lone UTF-16 surrogate/);
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

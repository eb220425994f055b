/**
 * Tool arguments as a client (or a model) gets them wrong, through the official v1 SDK client over
 * Streamable HTTP against the whole local system: an argument a tool does not take, at the top or
 * inside an object such as quietHours, is refused (-32602, as a tool result with isError) naming it,
 * never silently dropped; a getCallHistory window that ends before it starts is refused saying so,
 * not answered with an empty page.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { LocalSystem } from '../../scripts/local-system.js';
import { httpClient, startTestSystem, tokenFor } from '../support/system.js';
import { assertPlanCovers, TOOL_PLAN } from '../support/tool-plan.js';

let system: LocalSystem;
let client: Client;
before(async () => {
  system = await startTestSystem();
  client = await httpClient(system, tokenFor(system, `arguments-${randomUUID()}`));
});
after(async () => {
  await client?.close();
  await system?.stop();
});

/** The text of a refused tools/call (input errors reach the model as a tool result with isError). */
async function refusal(name: string, args: Record<string, unknown>): Promise<string> {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, true, `${name} accepted ${JSON.stringify(args)}: ${JSON.stringify(result.content)}`);
  return (result.content as { text: string }[]).map((c) => c.text).join('\n');
}

const preferences = async () => {
  const { structuredContent } = await client.callTool({ name: 'getProfile', arguments: {} });
  return (structuredContent as { preferences: Record<string, unknown> }).preferences;
};

describe('arguments a tool does not take', () => {
  it('updateCallPreferences refuses an unknown key inside quietHours, naming it, and changes nothing', async () => {
    const before = await preferences();
    const text = await refusal('updateCallPreferences', {
      quietHours: { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' },
    });
    assert.match(text, /quietHours/);
    assert.match(text, /"timezone"|timezone/);
    assert.match(text, /-32602|[Ii]nvalid|[Uu]nrecognized|unknown/);
    assert.deepEqual(await preferences(), before, 'nothing changed');
  });

  it('every tool refuses an unknown top-level argument, naming it, and lists its input schema as closed', async () => {
    const { tools } = await client.listTools();
    assertPlanCovers(tools.map((t) => t.name));
    for (const step of TOOL_PLAN) {
      const args = { ...step.arguments({ callId: randomUUID(), webhookId: randomUUID() }), colour: 'blue' };
      assert.match(await refusal(step.name, args), /colour/, step.name);
      const schema = tools.find((t) => t.name === step.name)?.inputSchema as { additionalProperties?: unknown };
      assert.equal(schema.additionalProperties, false, `${step.name} says it takes no other arguments`);
    }
    const preferencesTool = tools.find((t) => t.name === 'updateCallPreferences');
    assert.ok(preferencesTool);
    const quietHours = preferencesTool.inputSchema.properties?.quietHours;
    assert.ok(
      JSON.stringify(quietHours).includes('"additionalProperties":false'),
      `quietHours says it takes only start and end: ${JSON.stringify(quietHours)}`,
    );
    const history = await client.callTool({ name: 'getCallHistory', arguments: {} });
    assert.equal(history.isError, undefined, 'nothing was placed by the refused makePhoneCall');
    assert.deepEqual((history.structuredContent as { calls: unknown[] }).calls, []);
  });
});

describe('getCallHistory window', () => {
  it('since after until is refused saying so; equal bounds are a valid (inclusive) window', async () => {
    const text = await refusal('getCallHistory', {
      since: '2026-02-01T00:00:00Z',
      until: '2026-01-01T00:00:00Z',
    });
    assert.match(text, /since.*after.*until|until.*before.*since/);
    // Offsets are compared as instants: 01:00+02:00 is before 00:00Z.
    await refusal('getCallHistory', { since: '2026-01-01T00:00:00Z', until: '2026-01-01T01:00:00+02:00' });
    const same = await client.callTool({
      name: 'getCallHistory',
      arguments: { since: '2026-01-01T00:00:00Z', until: '2026-01-01T00:00:00Z' },
    });
    assert.equal(same.isError, undefined, JSON.stringify(same.content));
  });
});

/**
 * The user's own account through the MCP gateway: created on the first authenticated request, read as
 * resources (profile, preferences, balance, usage), changed with updateCallPreferences; each user sees
 * only their own data, over Streamable HTTP and WebSocket.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '@callgate/gateway';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { LocalSystem } from '../../scripts/local-system.js';
import { httpClient, startTestSystem, wsClient } from '../support/system.js';

const URIS = {
  profile: 'callgate://me/profile',
  preferences: 'callgate://me/preferences',
  balance: 'callgate://me/credits/balance',
  usage: 'callgate://me/credits/usage',
};

let system: LocalSystem;
before(async () => {
  system = await startTestSystem();
});
after(async () => {
  await system.stop();
});

const token = (sub: string, scope: string, extra: { email?: string; name?: string } = {}) =>
  mintToken(system.jwt, { sub, scope, ...extra }, 600);
const ALL = 'calls:read calls:write profile:read profile:write credits:read';

async function readJson(client: Client, uri: string): Promise<Record<string, unknown>> {
  const { contents } = await client.readResource({ uri });
  assert.equal(contents.length, 1);
  const [content] = contents;
  assert.equal(content?.mimeType, 'application/json');
  return JSON.parse(String((content as { text: string }).text)) as Record<string, unknown>;
}

const transports: [string, typeof httpClient][] = [
  ['Streamable HTTP', httpClient],
  ['WebSocket', wsClient],
];

for (const [name, connect] of transports) {
  describe(`account resources over ${name}`, () => {
    const alice = `alice-${randomUUID()}`;
    const bob = `bob-${randomUUID()}`;
    let a: Client;
    let b: Client;
    before(async () => {
      a = await connect(system, token(alice, ALL, { email: 'alice@example.com', name: 'Alice' }));
      b = await connect(system, token(bob, ALL));
    });
    after(async () => {
      await a.close();
      await b.close();
    });

    it('lists the account resources and the usage template', async () => {
      const { resources } = await a.listResources();
      const own = resources.map((r) => r.uri).filter((u) => u.startsWith('callgate://me/'));
      assert.deepEqual(own.sort(), Object.values(URIS).sort());
      assert.ok(
        resources.some((r) => r.uri === 'callgate://calls'),
        'call history',
      );
      const { resourceTemplates } = await a.listResourceTemplates();
      assert.ok(resourceTemplates.some((t) => t.uriTemplate.startsWith(`${URIS.usage}{?`)));
      assert.ok(resourceTemplates.some((t) => t.uriTemplate === 'callgate://calls/{callId}'));
    });

    it('the first request creates the user from the token: profile, welcome credits, usage', async () => {
      const profile = await readJson(a, URIS.profile);
      assert.equal(profile.userId, alice);
      assert.equal(profile.email, 'alice@example.com');
      assert.equal(profile.displayName, 'Alice');
      const balance = await readJson(a, URIS.balance);
      assert.equal('userId' in balance, false, 'the token says whose balance it is');
      assert.deepEqual(
        (await a.callTool({ name: 'getCreditBalance', arguments: {} })).structuredContent,
        { balance },
        'the resource and the tool show the same balance',
      );
      assert.equal(balance.available, 500, 'SIGNUP_CREDITS default');
      assert.equal(balance.held, 0);
      const usage = (await readJson(a, URIS.usage)) as { entries: { kind: string; amount: number; actor: string }[] };
      assert.deepEqual(
        usage.entries.map((e) => [e.kind, e.amount, e.actor]),
        [['ENTRY_KIND_GRANT', 500, 'signup']],
      );
    });

    it('updateCallPreferences changes only the given fields and the resource shows the result', async () => {
      const before = await readJson(a, URIS.preferences);
      const result = await a.callTool({
        name: 'updateCallPreferences',
        arguments: { language: 'de-DE', defaultVoice: 'de-DE-Journey-F', maxCallDurationSeconds: 120 },
      });
      assert.equal(result.isError, undefined, JSON.stringify(result.content));
      const after = await readJson(a, URIS.preferences);
      assert.equal(after.language, 'de-DE');
      assert.equal(after.defaultVoice, 'de-DE-Journey-F');
      assert.equal(after.maxCallDurationSeconds, 120);
      assert.equal(after.defaultModel, before.defaultModel, 'untouched field kept');
      assert.deepEqual((result.structuredContent as { preferences: unknown }).preferences, after);
    });

    it('an unknown voice is refused with invalid params naming the field, and nothing changes', async () => {
      const before = await readJson(a, URIS.preferences);
      // Invalid input is a tool execution error (2025-11-25), so the model reads it and corrects itself.
      const refused = await a.callTool({ name: 'updateCallPreferences', arguments: { defaultVoice: 'no-such-voice' } });
      assert.equal(refused.isError, true);
      assert.match(JSON.stringify(refused.content), /defaultVoice: unknown voice \\"no-such-voice\\"/);
      assert.deepEqual(await readJson(a, URIS.preferences), before);
    });

    it("each user sees only their own account: bob's reads never show alice's data", async () => {
      await a.callTool({ name: 'updateCallPreferences', arguments: { timezone: 'Europe/Berlin' } });
      const prefs = await readJson(b, URIS.preferences);
      assert.equal(prefs.timezone, 'UTC');
      assert.equal((await readJson(b, URIS.profile)).userId, bob);
      const usage = (await readJson(b, URIS.usage)) as { entries: unknown[] };
      assert.equal(usage.entries.length, 1, "bob's signup grant only");
      assert.deepEqual((await b.callTool({ name: 'getCreditBalance', arguments: {} })).structuredContent, {
        balance: await readJson(b, URIS.balance),
      });
    });

    it('quiet hours are set with start/end and cleared with null; none reads as null', async () => {
      assert.equal((await readJson(a, URIS.preferences)).quietHours, null);
      const set = await a.callTool({
        name: 'updateCallPreferences',
        arguments: { quietHours: { start: '22:00', end: '07:00' } },
      });
      assert.equal(set.isError, undefined, JSON.stringify(set.content));
      assert.deepEqual((await readJson(a, URIS.preferences)).quietHours, { start: '22:00', end: '07:00' });
      await a.callTool({ name: 'updateCallPreferences', arguments: { timezone: 'Europe/Berlin' } });
      assert.deepEqual(
        (await readJson(a, URIS.preferences)).quietHours,
        { start: '22:00', end: '07:00' },
        'a patch without quietHours keeps them',
      );
      const cleared = await a.callTool({ name: 'updateCallPreferences', arguments: { quietHours: null } });
      assert.equal(cleared.isError, undefined, JSON.stringify(cleared.content));
      assert.equal(
        (cleared.structuredContent as { preferences: { quietHours: unknown } }).preferences.quietHours,
        null,
      );
      assert.equal((await readJson(a, URIS.preferences)).quietHours, null);
    });

    it('recordingEnabled is set, read back and cleared; a non-boolean is refused', async () => {
      const on = await a.callTool({ name: 'updateCallPreferences', arguments: { recordingEnabled: true } });
      assert.equal(on.isError, undefined, JSON.stringify(on.content));
      assert.equal(
        (on.structuredContent as { preferences: { recordingEnabled: boolean } }).preferences.recordingEnabled,
        true,
      );
      assert.equal((await readJson(a, URIS.preferences)).recordingEnabled, true);
      const refused = await a.callTool({ name: 'updateCallPreferences', arguments: { recordingEnabled: 'yes' } });
      assert.equal(refused.isError, true);
      assert.match(JSON.stringify(refused.content), /recordingEnabled/);
      const off = await a.callTool({ name: 'updateCallPreferences', arguments: { recordingEnabled: false } });
      assert.equal(off.isError, undefined, JSON.stringify(off.content));
      assert.equal((await readJson(a, URIS.preferences)).recordingEnabled, false);
    });

    it('the usage template filters and pages; a bad parameter is invalid params', async () => {
      const page = (await readJson(a, `${URIS.usage}?pageSize=1`)) as { entries: unknown[]; nextPageToken: string };
      assert.equal(page.entries.length, 1);
      assert.equal(page.nextPageToken, '', 'one entry (the signup grant) fits one page');
      await assert.rejects(
        a.readResource({ uri: `${URIS.usage}?colour=blue` }),
        (e: unknown) => (e as { code?: number }).code === -32602,
        'an unknown query parameter matches no resource',
      );
      const future = (await readJson(a, `${URIS.usage}?from=2999-01-01T00:00:00Z`)) as { entries: unknown[] };
      assert.deepEqual(future.entries, []);
      await assert.rejects(
        a.readResource({ uri: `${URIS.usage}?from=yesterday` }),
        (e: unknown) => (e as { code?: number }).code === -32602 && /from/.test(String(e)),
      );
    });
  });
}

describe('account resources need their scopes', () => {
  it('a token without credits:read cannot read the balance, but can read its profile', async () => {
    const client = await wsClient(system, token(`scoped-${randomUUID()}`, 'profile:read'));
    try {
      await assert.rejects(
        client.readResource({ uri: URIS.balance }),
        (e: unknown) => (e as { code?: number }).code === -32003 && /credits:read/.test(String(e)),
      );
      assert.ok((await readJson(client, URIS.profile)).userId);
    } finally {
      await client.close();
    }
  });
});

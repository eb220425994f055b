/**
 * FINDING (attack2, not fixed; privacy, high): deleting a call's transcript (deleteCallData, or the
 * TRANSCRIPT_RETENTION_DAYS job) leaves a full copy of it in calls.webhook_events.body.
 *
 * A webhook event's body is rendered once (relay.ts: the call as getCallDetails shows it, transcript turns,
 * outcome summary and learned fields included) and kept forever, so that every attempt sends the same
 * bytes. CallData.deleteTranscript (services/call/src/recordings/call-data.ts) empties the turns, the
 * outcome and the sheet row, but never the stored bodies: the transcript the user asked to delete stays in
 * the database for good, retention never reaches it, and a delivery still retrying (24 h window) or
 * replayed sends it to the receiver after the deletion. The same holds for recording.ready bodies (the
 * recording's pre-signed URL is dead once deleted, but the transcript is in them too).
 *
 * Run: DATABASE_URL=postgres://… node --conditions=callgate-source --import tsx --test \
 *        test/e2e/webhook-bodies-after-deletion.finding.ts
 * Result: fails at "the stored body still carries the deleted transcript".
 *
 * Fix direction (a design choice for the lead, hence not done here): in deleteTranscript's transaction,
 * rewrite the call's stored bodies with the transcript blanked (re-render them from the call as it now is:
 * empty turns, empty summary and fields, transcriptDeletedAt set), so attempts after the deletion send the
 * redacted body under the same event id; or drop the bodies and cancel the call's undelivered deliveries
 * (the log says "canceled: transcript deleted"). Setting body to NULL alone would leave enqueued deliveries
 * hidden and re-received by the worker until SQS dead-letters them behind the log's back.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { SANDBOX_NUMBERS } from '@callgate/sandbox';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import pg from 'pg';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { eventually } from '../support/eventually.js';
import { httpClient, tokenFor } from '../support/system.js';

const bodies: string[] = [];
let server: Server;
let system: LocalSystem;

before(async () => {
  assert.ok(process.env.DATABASE_URL, 'reads the stored bodies: needs DATABASE_URL');
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      WEBHOOK_RECEIVE_WAIT_SECONDS: '1',
    },
  });
});
after(async () => {
  await system?.stop();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function tool<T>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = (await client.callTool({ name, arguments: args })) as { isError?: boolean; structuredContent?: T };
  assert.equal(result.isError, undefined, `${name}: ${JSON.stringify(result)}`);
  return result.structuredContent as T;
}

it("deleting a call's transcript deletes it from the stored webhook bodies too", async () => {
  const client = await httpClient(system, tokenFor(system, `bodies-${randomUUID()}`));
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  try {
    const port = (server.address() as AddressInfo).port;
    await tool(client, 'createWebhook', { url: `http://127.0.0.1:${port}/hook`, events: ['call.completed'] });
    const placed = await tool<{ call: { callId: string } }>(client, 'makePhoneCall', {
      // The sandbox's scripted person who talks: the call has a transcript.
      to: SANDBOX_NUMBERS.cooperative,
      task: 'Ask whether the shop is open on Sunday.',
    });
    const callId = placed.call.callId;
    const delivered = await eventually('call.completed at the receiver', async () =>
      bodies.find((b) => b.includes(callId)),
    );
    const sent = JSON.parse(delivered) as { data: { call: { transcript: { text: string }[] } } };
    assert.ok(sent.data.call.transcript.length > 0, 'control: the delivered body carries the transcript');
    const said = sent.data.call.transcript[0]?.text ?? '';

    await tool(client, 'deleteCallData', { callId, what: ['transcript'] });
    const { call } = await tool<{ call: { transcript: unknown[] } }>(client, 'getCallDetails', { callId });
    assert.deepEqual(call.transcript, [], 'control: the call no longer shows its transcript');

    const { rows } = await db.query<{ body: string }>(
      'SELECT body FROM calls.webhook_events WHERE call_id = $1 AND body IS NOT NULL',
      [callId],
    );
    assert.ok(rows.length > 0, 'control: the call.completed body is stored');
    for (const row of rows) {
      assert.equal(row.body.includes(said), false, 'the stored body still carries the deleted transcript');
    }
  } finally {
    await db.end();
    await client.close();
  }
});

/**
 * Webhooks end to end against the local system (local mode: a loopback receiver over http): a call's end
 * reaches a real HTTP receiver signed, and the documented verification code accepts it; a receiver that
 * fails three times gets the same event (same id, same body) on the fourth try; hostile registrations are
 * refused with the reason; another user's webhook is not found; the cap holds under concurrent creates;
 * receivers that hang, redirect or answer a giant body are failures (or a bounded success), never a hang.
 * Waits are on the receiver's requests and the delivery log, never on a wall-clock deadline.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { webhookEventId } from '@callgate/common';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { openIsolatedDatabase } from '../support/database.js';
import { eventually } from '../support/eventually.js';
import { httpClient, tokenFor } from '../support/system.js';

const root = path.resolve(import.meta.dirname, '../..');

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver on 127.0.0.1: each path answers as its handler says; every request is recorded first. */
class Receiver {
  readonly requests: Received[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly hanging: ServerResponse[] = [];
  private server!: Server;
  giantBytesSent = 0;
  giantClosedEarly = false;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        this.requests.push({ path: req.url ?? '', headers: req.headers, body });
        for (const wake of this.waiters.splice(0)) wake();
        this.answer(req.url ?? '', res);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  url(p: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${p}`;
  }

  on(p: string): Received[] {
    return this.requests.filter((r) => r.path === p);
  }

  /** Resolves when `p` has received `n` requests. */
  async received(p: string, n: number): Promise<Received[]> {
    while (this.on(p).length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.on(p);
  }

  private answer(p: string, res: ServerResponse): void {
    if (p === '/flaky' && this.on(p).length <= 3) {
      res.writeHead(503).end('try later');
    } else if (p === '/always-500') {
      res.writeHead(500).end('broken');
    } else if (p === '/hang') {
      this.hanging.push(res); // never answers
    } else if (p === '/redirect') {
      res.writeHead(302, { location: this.url('/redirect-target') }).end();
    } else if (p === '/giant') {
      // 64 MiB offered; the worker reads a few KiB and drops the connection.
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (this.giantBytesSent < 64 * 1024 * 1024) {
          this.giantBytesSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => {
        if (this.giantBytesSent < 64 * 1024 * 1024) this.giantClosedEarly = true;
      });
      pump();
    } else {
      res.writeHead(204).end();
    }
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let system: LocalSystem;
const receiver = new Receiver();

before(async () => {
  await receiver.start();
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      SANDBOX_CALL_STEP_MS: '30',
      SANDBOX_TALK_MS: '200',
      // Retries at once (the backoff's base injected), a short attempt bound for the hanging receiver.
      WEBHOOK_RETRY_BASE_SECONDS: '0',
      WEBHOOK_RETRY_MAX_SECONDS: '0',
      WEBHOOK_TIMEOUT_MS: '300',
      WEBHOOK_RECEIVE_WAIT_SECONDS: '1',
      WEBHOOK_MAX_ENDPOINTS_PER_USER: '3',
    },
  });
});
after(async () => {
  await system?.stop();
  await receiver.stop();
});

type Result = { isError?: boolean; structuredContent?: unknown; content: unknown };

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Result> {
  return (await client.callTool({ name, arguments: args })) as Result;
}

async function tool<T>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = await call(client, name, args);
  assert.equal(result.isError, undefined, `${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

/** The error text of a tool call that must fail. */
async function refused(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await call(client, name, args);
  assert.equal(result.isError, true, `${name} should fail: ${JSON.stringify(result.structuredContent)}`);
  return (result.content as { text: string }[]).map((c) => c.text).join('\n');
}

interface Delivery {
  eventId: string;
  eventType: string;
  callId: string;
  state: string;
  attempts: number;
  lastError: string | null;
  lastStatusCode: number | null;
}

async function deliveries(client: Client, webhookId: string): Promise<Delivery[]> {
  return (await tool<{ deliveries: Delivery[] }>(client, 'getWebhookDeliveries', { webhookId })).deliveries;
}

/** The delivery log until an entry for the call matches. */
function logEntry(client: Client, webhookId: string, match: (d: Delivery) => boolean, what: string) {
  // Polled every 250 ms, and a refusal by the per-user rate limit (120 requests a minute, shared with the
  // test's other calls) is one more poll, not a failure: a loaded machine makes the wait, and the polls, long.
  return eventually(
    what,
    async () => {
      try {
        return (await deliveries(client, webhookId)).find(match);
      } catch (error) {
        if (/Rate limit exceeded/.test(String(error))) return undefined;
        throw error;
      }
    },
    5000,
    { intervalMs: 250 },
  );
}

async function createHook(client: Client, url: string, events = ['call.completed']) {
  return tool<{ webhook: { webhookId: string }; secret: string }>(client, 'createWebhook', { url, events });
}

async function placeCall(client: Client): Promise<string> {
  const placed = await tool<{ call: { callId: string } }>(client, 'makePhoneCall', {
    to: '+14155550001',
    task: 'Ask whether the shop is open on Sunday.',
  });
  return placed.call.callId;
}

/** The verification code of docs/webhooks.md, exactly as printed, as a module. */
async function documentedVerifier(): Promise<
  (secret: string, header: string, rawBody: string, nowSeconds?: number) => boolean
> {
  const doc = readFileSync(path.join(root, 'docs/webhooks.md'), 'utf8');
  const block = /<!-- verify-snippet:start -->\n```js\n([\s\S]*?)```\n<!-- verify-snippet:end -->/.exec(doc)?.[1];
  assert.ok(block, 'docs/webhooks.md holds the verification snippet between its markers');
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'callgate-snippet-')), 'verify.mjs');
  writeFileSync(file, block);
  const module = (await import(pathToFileURL(file).href)) as { verifyCallgateSignature: never };
  return module.verifyCallgateSignature;
}

describe('webhooks through MCP', () => {
  let alice: Client;
  let bob: Client;
  before(async () => {
    alice = await httpClient(system, tokenFor(system, `hooks-alice-${randomUUID()}`));
    bob = await httpClient(system, tokenFor(system, `hooks-bob-${randomUUID()}`));
  });
  after(async () => {
    await alice?.close();
    await bob?.close();
  });

  it('call.completed reaches the receiver signed, with the call as getCallDetails shows it; the documented code verifies it', async () => {
    const hook = await createHook(alice, receiver.url('/ok'), ['call.answered', 'call.completed']);
    assert.match(hook.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    const callId = await placeCall(alice);
    const completed = await eventually(
      'call.completed at the receiver',
      async () =>
        receiver
          .on('/ok')
          .find((r) => JSON.parse(r.body).type === 'call.completed' && JSON.parse(r.body).data.call.callId === callId),
      5000,
      { intervalMs: 20 },
    );
    const body = JSON.parse(completed.body) as {
      id: string;
      type: string;
      createdAt: string;
      data: { call: Record<string, unknown> };
    };
    assert.equal(
      body.id,
      webhookEventId(callId, 'call.completed'),
      'the id is derived from the call and the transition',
    );
    assert.equal(completed.headers['callgate-event-id'], body.id);
    const { call: details } = await tool<{ call: Record<string, unknown> }>(alice, 'getCallDetails', { callId });
    assert.deepEqual(body.data.call, details, 'the body carries the call exactly as getCallDetails shows it');
    assert.equal(body.data.call.status, 'completed');
    assert.equal(body.data.call.costCredits, 10, 'announced after the settlement: the final cost');
    assert.equal('userId' in body.data.call, false);

    const verify = await documentedVerifier();
    const header = String(completed.headers['callgate-signature']);
    assert.equal(verify(hook.secret, header, completed.body), true, 'the documented snippet accepts a real delivery');
    assert.equal(verify(hook.secret, header, `${completed.body} `), false, 'and refuses a changed body');
    assert.equal(verify(`${hook.secret}x`, header, completed.body), false, 'and another secret');
    const t = Number(/t=(\d+)/.exec(header)?.[1]);
    assert.equal(verify(hook.secret, header, completed.body, t + 301), false, 'and an old timestamp');

    // The answer too, once; exactly one event per transition although the sandbox reports each status
    // through callbacks and polls.
    const answered = receiver
      .on('/ok')
      .filter((r) => JSON.parse(r.body).data.call.callId === callId && JSON.parse(r.body).type === 'call.answered');
    assert.equal(answered.length, 1);
    const log = await logEntry(
      alice,
      hook.webhook.webhookId,
      (d) => d.callId === callId && d.eventType === 'call.completed' && d.state === 'delivered',
      'the delivered entry',
    );
    assert.deepEqual([log.attempts, log.eventId, log.lastStatusCode], [1, body.id, 204]);
  });

  it('recording.ready reaches the receiver once the audio is stored, with the recording on the call', async () => {
    // A user of its own: the cap on endpoints is per user, and the other tests use alice's.
    const carol = await httpClient(system, tokenFor(system, `hooks-carol-${randomUUID()}`));
    after(() => carol.close());
    const hook = await createHook(carol, receiver.url('/ok'), ['recording.ready']);
    const placed = await tool<{ call: { callId: string } }>(carol, 'makePhoneCall', {
      to: '+14155550001',
      task: 'Ask whether the shop is open on Sunday.',
      record: true,
    });
    const callId = placed.call.callId;
    const ready = await eventually(
      'recording.ready at the receiver',
      async () =>
        receiver
          .on('/ok')
          .find((r) => JSON.parse(r.body).type === 'recording.ready' && JSON.parse(r.body).data.call.callId === callId),
      5000,
      { intervalMs: 20 },
    );
    const body = JSON.parse(ready.body) as {
      id: string;
      data: { call: { recording: { status: string; url: string } } };
    };
    assert.equal(body.id, webhookEventId(callId, 'recording.ready'));
    assert.equal(body.data.call.recording.status, 'ready', 'sent after the store, never before');
    assert.match(body.data.call.recording.url, /^http/, 'with the pre-signed URL, as getCallDetails shows it');
    const audio = await fetch(body.data.call.recording.url);
    assert.equal(audio.status, 200);
    assert.equal(
      Buffer.from(await audio.arrayBuffer())
        .subarray(0, 4)
        .toString('latin1'),
      'RIFF',
    );
    const log = await logEntry(
      carol,
      hook.webhook.webhookId,
      (d) => d.callId === callId && d.eventType === 'recording.ready' && d.state === 'delivered',
      'the delivered recording.ready entry',
    );
    assert.equal(log.attempts, 1);
  });

  it('a receiver that fails three times gets the event once more, with the same id and bytes', async () => {
    const hook = await createHook(alice, receiver.url('/flaky'));
    const callId = await placeCall(alice);
    const attempts = await receiver.received('/flaky', 4);
    const ids = attempts.map((r) => JSON.parse(r.body).id as string);
    assert.deepEqual(new Set(ids), new Set([webhookEventId(callId, 'call.completed')]));
    assert.equal(new Set(attempts.map((r) => r.body)).size, 1, 'every attempt sends the same body');
    const log = await logEntry(alice, hook.webhook.webhookId, (d) => d.state === 'delivered', 'the delivered entry');
    assert.deepEqual([log.attempts, log.lastStatusCode], [4, 204]);
    await deleteHook(alice, hook.webhook.webhookId);
  });

  it('a receiver that hangs times out, a redirect is not followed, and a giant body is read only in part', async () => {
    const hang = await createHook(alice, receiver.url('/hang'));
    const redirect = await createHook(alice, receiver.url('/redirect'));
    await placeCall(alice);
    const timedOut = await logEntry(
      alice,
      hang.webhook.webhookId,
      (d) => d.attempts >= 1 && d.state === 'retrying',
      'a timed-out attempt',
    );
    assert.match(timedOut.lastError ?? '', /timed out after 300 ms/);
    const redirected = await logEntry(
      alice,
      redirect.webhook.webhookId,
      (d) => d.attempts >= 1 && d.state === 'retrying',
      'a redirected attempt',
    );
    assert.match(redirected.lastError ?? '', /redirect \(302\) not followed/);
    assert.equal(redirected.lastStatusCode, 302);
    assert.equal(receiver.on('/redirect-target').length, 0, 'the Location was never requested');
    await deleteHook(alice, hang.webhook.webhookId);
    await deleteHook(alice, redirect.webhook.webhookId);

    const giant = await createHook(alice, receiver.url('/giant'));
    await placeCall(alice);
    const done = await logEntry(
      alice,
      giant.webhook.webhookId,
      (d) => d.state === 'delivered',
      'the giant answer delivered',
    );
    assert.equal(done.attempts, 1);
    await eventually('the receiver to see its connection dropped', async () => receiver.giantClosedEarly || undefined);
    assert.ok(receiver.giantBytesSent < 64 * 1024 * 1024, 'the 64 MiB answer was not read to its end');
    await deleteHook(alice, giant.webhook.webhookId);
  });

  it('refuses hostile registrations with the reason', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ url: 'http://example.com/hook', events: ['call.completed'] }, /https/],
      [{ url: 'https://user:pass@example.com/hook', events: ['call.completed'] }, /credentials/],
      [{ url: `https://example.com/${'a'.repeat(2100)}`, events: ['call.completed'] }, /2048/],
      [{ url: 'https://example.com/\u0000hook', events: ['call.completed'] }, /NUL/],
      [{ url: 'https://10.0.0.1/hook', events: ['call.completed'] }, /private|public addresses/],
      [{ url: 'https://169.254.169.254/latest', events: ['call.completed'] }, /linkLocal|public addresses/],
      [{ url: 'https://[::ffff:10.0.0.1]/hook', events: ['call.completed'] }, /private|public addresses/],
      [{ url: 'notaurl', events: ['call.completed'] }, /absolute URL/],
      [{ url: receiver.url('/ok'), events: ['call.exploded'] }, /events/],
      [{ url: receiver.url('/ok'), events: [] }, /events/],
      [{ url: receiver.url('/ok'), events: ['call.completed', 'call.completed'] }, /each event once/],
      [{ url: receiver.url('/ok'), events: ['call.completed'], description: 'x'.repeat(201) }, /description/],
      [{ url: receiver.url('/ok'), events: ['call.completed'], extra: true }, /extra|Unrecognized/i],
      [{ url: 42, events: ['call.completed'] }, /url/],
    ];
    for (const [args, reason] of cases) {
      const text = await refused(bob, 'createWebhook', args);
      assert.match(text, reason, `${JSON.stringify(args).slice(0, 80)}: ${text}`);
    }
    const { webhooks } = await tool<{ webhooks: unknown[] }>(bob, 'listWebhooks', {});
    assert.equal(webhooks.length, 0, 'nothing was registered');
  });

  it("another user's webhook is not found, exactly like an unknown one", async () => {
    const hook = await createHook(alice, receiver.url('/ok'));
    const unknown = randomUUID();
    for (const name of ['deleteWebhook', 'getWebhookDeliveries']) {
      const theirs = await refused(bob, name, { webhookId: hook.webhook.webhookId });
      const none = await refused(bob, name, { webhookId: unknown });
      assert.match(theirs, /not found/);
      assert.equal(theirs.replace(hook.webhook.webhookId, 'ID'), none.replace(unknown, 'ID'));
    }
    await assert.rejects(
      bob.readResource({ uri: `callgate://webhooks/${hook.webhook.webhookId}/deliveries` }),
      /not found/i,
    );
    const { webhooks } = await tool<{ webhooks: { webhookId: string }[] }>(bob, 'listWebhooks', {});
    assert.equal(
      webhooks.some((w) => w.webhookId === hook.webhook.webhookId),
      false,
    );
    const mine = await alice.readResource({ uri: `callgate://webhooks/${hook.webhook.webhookId}/deliveries` });
    assert.deepEqual(JSON.parse(String((mine.contents[0] as { text: string }).text)).deliveries, []);
    await deleteHook(alice, hook.webhook.webhookId);
  });

  it('the per-user cap holds under concurrent creates', async () => {
    const carol = await httpClient(system, tokenFor(system, `hooks-carol-${randomUUID()}`));
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          call(carol, 'createWebhook', { url: receiver.url('/ok'), events: ['call.completed'] }),
        ),
      );
      const made = results.filter((r) => !r.isError);
      assert.equal(made.length, 3, 'WEBHOOK_MAX_ENDPOINTS_PER_USER=3');
      for (const r of results.filter((r) => r.isError)) {
        assert.match((r.content as { text: string }[])[0]?.text ?? '', /most allowed/);
      }
      const { webhooks, maxWebhooks } = await tool<{ webhooks: unknown[]; maxWebhooks: number }>(
        carol,
        'listWebhooks',
        {},
      );
      assert.deepEqual([webhooks.length, maxWebhooks], [3, 3]);
    } finally {
      await carol.close();
    }
  });

  it('a token with calls:read only cannot register an endpoint (403 insufficient_scope)', async () => {
    const { mintToken } = await import('@callgate/gateway');
    const readOnly = await httpClient(
      system,
      mintToken(system.jwt, { sub: `hooks-ro-${randomUUID()}`, scope: 'calls:read' }, 600),
    );
    try {
      await assert.rejects(
        readOnly.callTool({
          name: 'createWebhook',
          arguments: { url: receiver.url('/ok'), events: ['call.completed'] },
        }),
        /insufficient|scope|403/i,
      );
    } finally {
      await readOnly.close();
    }
  });
});

async function deleteHook(client: Client, webhookId: string): Promise<void> {
  await tool(client, 'deleteWebhook', { webhookId });
}

describe('a delivery whose retry window is spent', () => {
  let short: LocalSystem;
  let own: Awaited<ReturnType<typeof openIsolatedDatabase>> | undefined;
  before(async () => {
    // A database of its own: on the file's shared one, the other system's relay (the normal 24 h window)
    // could claim this system's deliveries and retry them instead of dead-lettering them.
    const database: Record<string, string> = {};
    if (process.env.DATABASE_URL) {
      own = await openIsolatedDatabase('hooks_dlq');
      if (own.url) database.DATABASE_URL = own.url;
    }
    short = await startLocalSystem({
      ports: 'ephemeral',
      env: {
        ...process.env,
        ...database,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
        SANDBOX_CALL_STEP_MS: '30',
        SANDBOX_TALK_MS: '200',
        // The 24 h window shrunk to nothing: the first failure is the last.
        WEBHOOK_RETRY_WINDOW_SECONDS: '0',
        WEBHOOK_RECEIVE_WAIT_SECONDS: '1',
      },
    });
  });
  after(async () => {
    await short?.stop();
    await own?.close();
  });

  it('is dead-lettered: the log says so with the last error, and the message is on the DLQ', async () => {
    const client = await httpClient(short, tokenFor(short, `hooks-dlq-${randomUUID()}`));
    try {
      const hook = await createHook(client, receiver.url('/always-500'));
      const callId = await placeCall(client);
      const dead = await logEntry(
        client,
        hook.webhook.webhookId,
        (d) => d.state === 'dead-lettered',
        'the dead-lettered entry',
      );
      assert.equal(dead.callId, callId);
      assert.equal(dead.attempts, 1);
      assert.match(dead.lastError ?? '', /HTTP 500.*gave up after 1 attempts; on the dead-letter queue/);
      const { SQSClient, GetQueueUrlCommand, ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
      const sqs = new SQSClient({
        region: 'us-east-1',
        endpoint: short.sqsEndpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      try {
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'callgate-webhooks-dlq' }));
        const { Messages } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
        );
        assert.equal(Messages?.length, 1);
      } finally {
        sqs.destroy();
      }
    } finally {
      await client.close();
    }
  });
});

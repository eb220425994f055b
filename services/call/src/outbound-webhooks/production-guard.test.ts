/**
 * Production mode (WEBHOOK_LOCAL_MODE unset): private, loopback and link-local endpoints are refused at
 * registration, and again at delivery when a name that resolved to a public address then resolves to
 * 127.0.0.1 (DNS rebinding): no connection reaches the loopback receiver. Local mode on a system that
 * talks to the real SQS or Twilio stops the start, naming the variable.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConfigError, guardedAgent, ManualClock } from '@callgate/common';
import { z } from 'zod';
import { checkWebhookConfig, webhookConfigShape } from './config.js';
import { attemptDelivery } from './delivery.js';
import { signatureHeader, signatureMatches } from './signature.js';
import { checkEndpointUrl } from './url-policy.js';

const PUBLIC = '93.184.216.34';

describe('webhook endpoints in production mode', () => {
  let server: Server;
  let port = 0;
  let connections = 0;
  before(async () => {
    server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => server.close());

  it('refuses internal addresses at registration, literal or resolved, and accepts a public one', async () => {
    const policy = {
      localMode: false,
      lookup: async (host: string) => (host === 'public.example' ? [PUBLIC] : ['10.1.2.3']),
    };
    for (const url of [
      'https://127.0.0.1/hook',
      'https://localhost/hook',
      'https://10.0.0.1/hook',
      'https://192.168.1.10/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://100.64.0.1/hook',
      'https://224.0.0.1/hook',
      'https://[::1]/hook',
      'https://[fd00::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      // IPv4-compatible and other ::/8 forms the URL parser writes in hex (::a9fe:a9fe, ::7f00:1).
      'https://[::169.254.169.254]/latest/meta-data',
      'https://[::127.0.0.1]/hook',
      'https://[::a00:1]/hook',
      'https://[::ffff:ffff:a9fe:a9fe]/hook',
      'https://[64:ff9b::a9fe:a9fe]/hook',
      'https://[2002:a9fe:a9fe::1]/hook',
      'https://0/hook',
      'https://2130706433/hook',
      'https://0x7f.1/hook',
      'https://internal.example/hook',
      `http://127.0.0.1:${port}/hook`,
    ]) {
      await assert.rejects(checkEndpointUrl(url, policy), /url: /, url);
    }
    assert.equal(await checkEndpointUrl('https://public.example/hook', policy), 'https://public.example/hook');
    // A global IPv6 address is public (control for the ::/8 refusals above).
    assert.equal(
      await checkEndpointUrl('https://[2606:4700:4700::1111]/hook', policy),
      'https://[2606:4700:4700::1111]/hook',
    );
    await assert.rejects(checkEndpointUrl('http://public.example/hook', policy), /must be https, got http/);
  });

  it('refuses at delivery a name that now resolves to 127.0.0.1 (DNS rebinding): nothing is connected to', async () => {
    let answers = [PUBLIC];
    const lookup = async () => answers;
    assert.equal(
      await checkEndpointUrl(`https://rebind.example:${port}/hook`, { localMode: false, lookup }),
      `https://rebind.example:${port}/hook`,
    );
    answers = ['127.0.0.1'];
    const dispatcher = guardedAgent({ allowLoopback: false, connectTimeoutMs: 2000, lookup });
    try {
      const result = await attemptDelivery(
        {
          url: `https://rebind.example:${port}/hook`,
          secret: 's',
          eventId: 'e',
          eventType: 'call.completed',
          body: '{}',
        },
        { dispatcher, clock: new ManualClock(), timeoutMs: 10_000, maxResponseBytes: 4096, localMode: false },
      );
      assert.equal(result.ok, false);
      assert.match(result.error, /refused: rebind\.example resolves to 127\.0\.0\.1 \(loopback\)/);
      // A plain-http loopback URL is refused by scheme in production mode, before any connection too.
      const plain = await attemptDelivery(
        { url: `http://127.0.0.1:${port}/hook`, secret: 's', eventId: 'e', eventType: 'call.completed', body: '{}' },
        { dispatcher, clock: new ManualClock(), timeoutMs: 10_000, maxResponseBytes: 4096, localMode: false },
      );
      assert.match(plain.error, /refused: http: endpoints are not delivered to/);
      assert.equal(connections, 0, 'the loopback listener never saw a connection');
    } finally {
      await dispatcher.close();
    }
  });

  it('local mode on a system with the real SQS or the real Twilio stops the start, naming the variable', () => {
    const base = z.object(webhookConfigShape).parse({ WEBHOOK_LOCAL_MODE: 'true' });
    assert.throws(
      () => checkWebhookConfig({ ...base, TWILIO_API_BASE_URL: 'http://127.0.0.1:8090' }),
      (error: Error) =>
        error instanceof ConfigError && /WEBHOOK_LOCAL_MODE: .*SQS_ENDPOINT is unset/.test(error.message),
    );
    assert.throws(
      () => checkWebhookConfig({ ...base, SQS_ENDPOINT: 'http://127.0.0.1:4566' }),
      (error: Error) =>
        error instanceof ConfigError && /WEBHOOK_LOCAL_MODE: .*TWILIO_API_BASE_URL is unset/.test(error.message),
    );
    checkWebhookConfig({
      ...base,
      SQS_ENDPOINT: 'http://127.0.0.1:4566',
      TWILIO_API_BASE_URL: 'http://127.0.0.1:8090',
    });
    checkWebhookConfig(z.object(webhookConfigShape).parse({}));
  });

  it('signs "<t>.<body>" with HMAC-SHA256; another body, secret or timestamp does not match', () => {
    const header = signatureHeader('whsec_k', 1767258000, '{"a":1}');
    assert.match(header, /^t=1767258000,v1=[0-9a-f]{64}$/);
    assert.equal(signatureMatches('whsec_k', header, '{"a":1}'), true);
    assert.equal(signatureMatches('whsec_k', header, '{"a":2}'), false);
    assert.equal(signatureMatches('whsec_x', header, '{"a":1}'), false);
    assert.equal(signatureMatches('whsec_k', header.replace('t=1767258000', 't=1767258001'), '{"a":1}'), false);
  });
});

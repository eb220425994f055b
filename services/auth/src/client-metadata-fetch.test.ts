import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '@callgate/common';
import { ClientMetadataServer } from '../../../test/support/client-metadata-server.js';
import { clientMetadataFetch, isLoopbackHost } from './client-metadata-fetch.js';

describe('fetching client metadata documents', () => {
  let documents: ClientMetadataServer;
  let url: string;
  before(async () => {
    documents = await ClientMetadataServer.start();
    url = documents.serve('/client.json', (self) => JSON.stringify({ client_id: self }));
  });
  after(() => documents?.close());

  it('outside local mode oidc-provider’s own SSRF-guarded fetch is used (no hook)', () => {
    assert.equal(clientMetadataFetch({ AUTH_LOCAL_MODE: false }), undefined);
  });

  it('AUTH_CIMD_EXTRA_CA_FILE outside local mode is a configuration error naming the variable', () => {
    assert.throws(
      () => clientMetadataFetch({ AUTH_LOCAL_MODE: false, AUTH_CIMD_EXTRA_CA_FILE: documents.caFile }),
      (error: Error) => error instanceof ConfigError && /AUTH_CIMD_EXTRA_CA_FILE/.test(error.message),
    );
    assert.throws(
      () => clientMetadataFetch({ AUTH_LOCAL_MODE: true, AUTH_CIMD_EXTRA_CA_FILE: '/nonexistent/ca.pem' }),
      (error: Error) => error instanceof ConfigError && /AUTH_CIMD_EXTRA_CA_FILE/.test(error.message),
    );
  });

  it('in local mode a loopback https document is fetched when its certificate is trusted by the extra CA', async () => {
    const fetch = clientMetadataFetch({ AUTH_LOCAL_MODE: true, AUTH_CIMD_EXTRA_CA_FILE: documents.caFile });
    assert.ok(fetch);
    const response = await fetch(url, { method: 'GET', headers: { accept: 'application/json' }, redirect: 'manual' });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { client_id: url });
  });

  it('in local mode a loopback certificate no trusted CA signed is refused', async () => {
    const fetch = clientMetadataFetch({ AUTH_LOCAL_MODE: true });
    assert.ok(fetch);
    await assert.rejects(fetch(url, { method: 'GET' }), /self[- ]signed|certificate/i);
  });

  it('only 127.0.0.0/8, ::1 and localhost count as loopback', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', '[::1]', 'localhost']) assert.ok(isLoopbackHost(host), host);
    for (const host of ['10.0.0.1', '169.254.169.254', '127.0.0.1.example.com', 'example.com', '[::ffff:7f00:1]']) {
      assert.ok(!isLoopbackHost(host), host);
    }
  });
});

import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '@callgate/common';
import { ClientMetadataServer } from '../../../test/support/client-metadata-server.js';
import { addressRange, clientMetadataFetch, isLoopbackHost } from './client-metadata-fetch.js';

/** A TCP listener on 127.0.0.1 that counts connections (and drops them). */
async function countingListener(): Promise<{ port: number; connections: Socket[]; close: () => void }> {
  const connections: Socket[] = [];
  const server: Server = createServer((socket) => {
    connections.push(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, connections, close: () => server.close() };
}

describe('outbound fetches for clients (metadata documents, jwks_uri)', () => {
  let documents: ClientMetadataServer;
  let url: string;
  let listener: Awaited<ReturnType<typeof countingListener>>;
  before(async () => {
    documents = await ClientMetadataServer.start();
    url = documents.serve('/client.json', (self) => JSON.stringify({ client_id: self }));
    listener = await countingListener();
  });
  after(() => {
    listener?.close();
    return documents?.close();
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

  it('addresses are classified by ipaddr.js: only public unicast passes, IPv4-mapped forms included', () => {
    for (const address of ['93.184.215.14', '2606:4700::6810:84e5', '::ffff:93.184.215.14']) {
      assert.equal(addressRange(address), 'unicast', address);
    }
    const refused = [
      '127.0.0.1',
      '127.8.9.10',
      '10.0.0.1',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fc00::1',
      'fd12:3456::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:169.254.169.254',
      '::ffff:10.0.0.1',
      '2002:7f00:1::', // 6to4 of 127.0.0.1
      '64:ff9b::a00:1', // NAT64 of 10.0.0.1
      'not an address',
    ];
    for (const address of refused) assert.notEqual(addressRange(address), 'unicast', address);
    for (const host of ['127.0.0.1', '127.8.9.10', '[::1]', 'localhost', '[::ffff:7f00:1]']) {
      assert.ok(isLoopbackHost(host), host);
    }
    for (const host of ['10.0.0.1', '169.254.169.254', '127.0.0.1.example.com', 'example.com']) {
      assert.ok(!isLoopbackHost(host), host);
    }
  });

  it('outside local mode a loopback URL is refused before any connection is opened (IPv4, IPv6, mapped, by name)', async () => {
    const lookups: string[] = [];
    const fetch = clientMetadataFetch({ AUTH_LOCAL_MODE: false }, async (name) => {
      lookups.push(name);
      return ['127.0.0.1'];
    });
    for (const target of [
      `https://127.0.0.1:${listener.port}/client.json`,
      `https://[::ffff:127.0.0.1]:${listener.port}/client.json`,
      `http://127.0.0.1:${listener.port}/jwks`,
      `https://internal.example:${listener.port}/jwks`,
    ]) {
      await assert.rejects(fetch(target, { method: 'GET' }), (error: Error) =>
        /resolves to .*refused/.test(String((error.cause as Error | undefined)?.message ?? error.message)),
      );
    }
    assert.deepEqual(lookups, ['internal.example'], 'only the name was looked up');
    assert.equal(listener.connections.length, 0, 'a connection reached the loopback listener');
  });

  it('a name is refused when any of its addresses is internal, and private ranges stay refused in local mode', async () => {
    const fetch = clientMetadataFetch({ AUTH_LOCAL_MODE: true }, async () => ['93.184.215.14', '169.254.169.254']);
    await assert.rejects(fetch('https://mixed.example/client.json', { method: 'GET' }), (error: Error) =>
      /169\.254\.169\.254/.test(String((error.cause as Error | undefined)?.message)),
    );
    await assert.rejects(fetch('https://10.0.0.1/client.json', { method: 'GET' }), (error: Error) =>
      /10\.0\.0\.1 \(private\)/.test(String((error.cause as Error | undefined)?.message)),
    );
  });

  it('the connection goes to the address that was checked (no second resolution to rebind)', async () => {
    // The name does not exist in DNS: reaching the listener proves the connector used the looked-up address.
    const lookups: string[] = [];
    const fetch = clientMetadataFetch({ AUTH_LOCAL_MODE: true }, async (name) => {
      lookups.push(name);
      return lookups.length === 1 ? ['127.0.0.1'] : ['10.0.0.1'];
    });
    const before = listener.connections.length;
    await assert.rejects(fetch(`http://rebind.invalid:${listener.port}/jwks`, { method: 'GET' }));
    assert.equal(listener.connections.length, before + 1);
    assert.deepEqual(lookups, ['rebind.invalid']);
  });

  it('in local mode a loopback https document is fetched when its certificate is trusted by the extra CA', async () => {
    const fetch = clientMetadataFetch({ AUTH_LOCAL_MODE: true, AUTH_CIMD_EXTRA_CA_FILE: documents.caFile });
    const response = await fetch(url, { method: 'GET', headers: { accept: 'application/json' }, redirect: 'manual' });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { client_id: url });
  });

  it('in local mode a loopback certificate no trusted CA signed is refused', async () => {
    const fetch = clientMetadataFetch({ AUTH_LOCAL_MODE: true });
    await assert.rejects(fetch(url, { method: 'GET' }), (error: Error) =>
      /self[- ]signed|certificate/i.test(String((error.cause as Error | undefined)?.message ?? error.message)),
    );
  });
});

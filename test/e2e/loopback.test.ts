/**
 * `npm start` serves this machine only: every port the local system listens on (each service's gRPC
 * and ops ports, the gateway, the sandbox, the embedded SQS emulator) refuses connections on the
 * machine's own non-loopback address, and accepts them on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';

const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && !a.internal && a.family === 'IPv4')?.address;

/** 'open' or the connection error's code; a refusal on one's own address is immediate, no deadline needed. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('the local system listens on loopback only', {
  skip: external ? false : 'no non-loopback IPv4 address',
}, () => {
  let system: LocalSystem;
  before(async () => {
    const { SQS_ENDPOINT, SQS_QUEUE_URL, ...env } = process.env;
    system = await startLocalSystem({ ports: 'ephemeral', env });
  });
  after(async () => system?.stop());

  it('every port refuses connections on the machine’s own non-loopback address', async () => {
    const ports = new Map<string, number>();
    for (const s of system.services) {
      if (s.grpcPort) ports.set(`${s.name} gRPC`, s.grpcPort);
      if (s.opsPort) ports.set(`${s.name} ops`, s.opsPort);
      for (const [name, url] of Object.entries(s.endpoints)) ports.set(`${s.name} ${name}`, Number(new URL(url).port));
    }
    assert.ok(system.sqsEndpoint, 'the embedded SQS emulator runs');
    ports.set('sqs', Number(new URL(system.sqsEndpoint).port));
    for (const [what, port] of ports) {
      assert.equal(await tryConnect('127.0.0.1', port), 'open', `${what} on 127.0.0.1:${port}`);
      assert.equal(await tryConnect(external as string, port), 'ECONNREFUSED', `${what} on ${external}:${port}`);
    }
  });
});

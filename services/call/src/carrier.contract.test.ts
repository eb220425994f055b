/**
 * Contract test: the carrier against Twilio's own API description.
 *
 * Prism (a mock server) loads Twilio's OpenAPI for the 2010-04-01 API (shipped in @twilio/cli-core),
 * validates every request against it (path, parameters, form body, Basic auth) and answers from the
 * spec's examples. With `--errors` it also checks its answers against the response schemas.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type CarrierCall,
  carrierErrorToDomain,
  carrierHttpClient,
  isCarrierError,
  type PlaceCallParams,
  twilioCarrier,
} from './carrier.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const TWILIO_SPEC = path.join(root, 'node_modules/@twilio/cli-core/src/services/twilio-api/twilio_api_v2010.json');
const PRISM_CLI = path.join(root, 'node_modules/@stoplight/prism-cli/dist/index.js');
/** Prism loads the 2010 spec (1.9 MB) in about a second; the bound is for slow CI machines. */
const PRISM_STARTUP_LIMIT_MS = 60_000;

const ACCOUNT = `AC${'0123456789abcdef'.repeat(2)}`;
const SID = `CA${'fedcba9876543210'.repeat(2)}`;
const STATUSES = [
  'queued',
  'initiated',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'no-answer',
  'failed',
  'canceled',
];

const placeCall: PlaceCallParams = {
  to: '+14155550001',
  from: '+14155550002',
  twiml: '<Response><Say>hello</Say></Response>',
  statusCallbackUrl: 'https://callgate.example/twilio/status',
  timeLimitSeconds: 600,
  ringTimeoutSeconds: 30,
  machineDetection: true,
};

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document walked generically
type Json = any;

/**
 * Twilio's spec declares no `encoding` for its form bodies. OpenAPI's default for an array
 * property there is style `form`, explode: the key repeated (`StatusCallbackEvent=initiated&
 * StatusCallbackEvent=ringing`), which is what Twilio and its client use. Prism 5 deserializes
 * arrays only when an encoding is spelled out, so without this every array parameter fails with
 * "must be array". The patch writes that default out and changes nothing else.
 */
function withExplicitFormEncoding(spec: Json): string[] {
  const patched: string[] = [];
  for (const [route, item] of Object.entries<Json>(spec.paths)) {
    for (const [method, operation] of Object.entries<Json>(item)) {
      const form = operation?.requestBody?.content?.['application/x-www-form-urlencoded'];
      for (const [name, property] of Object.entries<Json>(form?.schema?.properties ?? {})) {
        if (property?.type !== 'array' || form.encoding?.[name]) continue;
        form.encoding = { ...form.encoding, [name]: { style: 'form', explode: true } };
        patched.push(`${method.toUpperCase()} ${route} ${name}`);
      }
    }
  }
  return patched;
}

/** Prism as a child process on a port it picks (`-p 0`); its URL read from its startup log. */
class Prism {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly startupMs: number,
    /** Prism's last log lines (it explains each refusal there). */
    private readonly log: string[],
  ) {}

  /** Runs a request; when it fails, adds what Prism's validator said to the error. */
  async explain<T>(request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      const said = this.log.filter((line) => line.includes('[VALIDATOR]')).slice(-10);
      throw new Error(`${(error as Error).message}\nPrism's validator:\n${said.join('\n')}`, { cause: error });
    }
  }

  static async start(specFile: string): Promise<Prism> {
    const started = performance.now();
    const child = spawn(process.execPath, [PRISM_CLI, 'mock', '--errors', '-h', '127.0.0.1', '-p', '0', specFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));

    const log: string[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`Prism did not start: ${why}\n${log.slice(-30).join('\n')}`));
      };
      const timer = setTimeout(() => fail(`not listening after ${PRISM_STARTUP_LIMIT_MS} ms`), PRISM_STARTUP_LIMIT_MS);
      const exitedEarly = (code: number | null, signal: NodeJS.Signals | null) => fail(`exited (${signal ?? code})`);
      const failedToSpawn = (error: Error) => fail(error.message);
      child.once('exit', exitedEarly);
      child.once('error', failedToSpawn);
      for (const stream of [child.stdout, child.stderr]) {
        if (!stream) continue;
        // Keep reading for Prism's whole life: it logs every request, and a full pipe would stall it.
        createInterface({ input: stream }).on('line', (raw) => {
          // biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal colours
          const line = raw.replace(/\u001b\[[0-9;]*m/g, '');
          log.push(line);
          if (log.length > 500) log.shift();
          const listening = /Prism is listening on (http:\/\/\S+)/.exec(line);
          if (listening?.[1]) {
            clearTimeout(timer);
            child.off('exit', exitedEarly);
            child.off('error', failedToSpawn);
            resolve(listening[1]);
          }
        });
      }
    });
    return new Prism(child, url, Math.round(performance.now() - started), log);
  }

  async stop(): Promise<void> {
    const { child } = this;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise((resolve) => {
      timer = setTimeout(resolve, 5_000, 'late');
    });
    if ((await Promise.race([exited, late])) === 'late') {
      child.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  }
}

function assertCallShape(call: CarrierCall | undefined): void {
  assert.ok(call);
  assert.match(call.sid, /^CA[0-9a-f]{32}$/);
  assert.ok(STATUSES.includes(call.status), `unknown status ${call.status}`);
  assert.ok(call.durationSeconds === null || Number.isInteger(call.durationSeconds));
  for (const time of [call.startTime, call.endTime]) {
    assert.ok(time === null || (time instanceof Date && !Number.isNaN(time.getTime())));
  }
  for (const text of [call.price, call.priceUnit, call.answeredBy]) {
    assert.ok(text === null || typeof text === 'string');
  }
}

describe("carrier contract: Twilio's OpenAPI through Prism", () => {
  let dir = '';
  let patched: string[] = [];
  let prism: Prism | undefined;
  const carrier = () =>
    twilioCarrier({ accountSid: ACCOUNT, authToken: 'x', apiBaseUrl: prism?.url, timeoutMs: 10_000 });

  before(
    async () => {
      const spec = JSON.parse(readFileSync(TWILIO_SPEC, 'utf8'));
      patched = withExplicitFormEncoding(spec);
      dir = mkdtempSync(path.join(tmpdir(), 'twilio-contract-'));
      const specFile = path.join(dir, 'twilio_api_v2010.json');
      writeFileSync(specFile, JSON.stringify(spec));
      prism = await Prism.start(specFile);
    },
    { timeout: PRISM_STARTUP_LIMIT_MS + 10_000 },
  );

  after(async () => {
    await prism?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Prism serves the spec; only array encodings of form bodies were spelled out', (t) => {
    t.diagnostic(`Prism listening on ${prism?.url} after ${prism?.startupMs} ms`);
    assert.ok(patched.includes('POST /2010-04-01/Accounts/{AccountSid}/Calls.json StatusCallbackEvent'));
  });

  it('create: Twilio accepts the parameters we send', async () => {
    assertCallShape(await prism?.explain(carrier().create(placeCall)));
  });

  it('fetch, cancel and hangUp: Twilio accepts the requests and we read its answers', async () => {
    const sandboxed = carrier();
    for (const request of [() => sandboxed.fetch(SID), () => sandboxed.cancel(SID), () => sandboxed.hangUp(SID)]) {
      assertCallShape(await prism?.explain(request()));
    }
  });

  it('Prism is validating: a create without To, sent through the same HTTP client, is refused', async () => {
    const response = await carrierHttpClient({ apiBaseUrl: prism?.url }).request<Json>({
      method: 'post',
      uri: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Calls.json`,
      username: ACCOUNT,
      password: 'x',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      data: { From: placeCall.from, Twiml: placeCall.twiml },
    });
    assert.equal(response.statusCode, 422);
    const messages = (response.body as Json).validation.map((v: Json) => v.message);
    assert.deepEqual(messages, ["Request body must have required property 'To'"]);
  });

  it('Prism checks Basic auth: a request without credentials is refused', async () => {
    const response = await carrierHttpClient({ apiBaseUrl: prism?.url }).request({
      method: 'get',
      uri: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Calls/${SID}.json`,
      headers: { Accept: 'application/json' },
    });
    assert.equal(response.statusCode, 401);
  });

  it('a request that breaks the contract fails through the carrier as a CarrierError', async () => {
    // TimeLimit is an integer in the spec.
    const failure = await carrier()
      .create({ ...placeCall, timeLimitSeconds: 1.5 })
      .then(
        () => assert.fail('Prism accepted a fractional TimeLimit'),
        (error: unknown) => error,
      );
    assert.ok(isCarrierError(failure));
    assert.equal(failure.status, 422);
    assert.equal(failure.mayHaveTakenEffect, false);
    assert.equal(carrierErrorToDomain(failure).kind, 'invalid_argument');
  });
});

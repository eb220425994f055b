/**
 * Foreign clients against `npm start` itself (scripts/start-local.ts in its own process, embedded
 * defaults, ephemeral ports, a DATA_DIR of its own): every tool called once, successfully, by each of
 * - the official v1 SDK client (Streamable HTTP, 2025-11-25, output validation on),
 * - the official v2 SDK client (@modelcontextprotocol/client, default version negotiation),
 * - mcp-remote (the stdio <-> HTTP bridge desktop clients use), driven over stdio by the v1 client,
 * - the MCP Inspector CLI, one process per request, which validates output against the schema too.
 * mcp-remote and the Inspector need Node 22+, fetched with `npx -y node@22`; where it cannot be fetched
 * those two are skipped with a loud message (the SDK clients still run).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CONSENTABLE_SCOPES, mintToken } from '@callgate/gateway';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type LocalDiscovery, readDiscovery } from '../../scripts/local-discovery.js';
import { localJwtSecret } from '../../scripts/local-system.js';
import { eventually } from '../support/eventually.js';
import { type RunningProcess, runEntry } from '../support/process.js';
import { assertPlanCovers, PLAN_SANDBOX_ENV, type PlanState, TOOL_PLAN } from '../support/tool-plan.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const INSPECTOR = path.join(root, 'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js');
const MCP_REMOTE = path.join(root, 'node_modules/mcp-remote/dist/proxy.js');
/** A bound that fails a hung child process, never a wait: each exits in seconds. */
const CHILD_BOUND_MS = 180_000;

/** `npm start`, and what it tells the operator scripts through DATA_DIR/local-system.json. */
let started: RunningProcess | undefined;
let system: LocalDiscovery;
let scratch: string;
let dataDir: string;
/** The Node 22 binary, or why there is none. */
let node22: { path: string } | { missing: string };

/** What one tool call answered, whatever the client. */
interface Answer {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  content?: unknown;
}

/** A client under test: connects as a fresh user and calls tools. */
interface ClientUnderTest {
  listTools(): Promise<string[]>;
  callTool(name: string, args: Record<string, unknown>): Promise<Answer>;
  close(): Promise<void>;
}

/** This environment without what would point `npm start` elsewhere than its embedded defaults. */
function startEnv(): Record<string, string> {
  const drop = /^(DATABASE_URL|REDIS_URL|SQS_|JWT_|GRPC_PORT|METRICS_PORT|HTTP_PORT|CREDIT_SERVICE_ADDR|DATA_DIR)/;
  const kept = Object.entries(process.env).filter(([k, v]) => v !== undefined && !drop.test(k));
  return {
    ...(Object.fromEntries(kept) as Record<string, string>),
    LOG_LEVEL: 'warn',
    CALLGATE_PORTS: 'ephemeral',
    DATA_DIR: dataDir,
    // This file tests what each client sends and accepts, not the gateway's deadline: its default (5 s)
    // was exceeded at load 20 while the mcp-remote client waited for getCallProgress.
    GRPC_DEADLINE_MS: '120000',
    ...PLAN_SANDBOX_ENV,
  };
}

/** A token as `npm run mint-token -- --sub <sub>` makes it: the key npm start keeps in DATA_DIR. */
function tokenFor(sub: string): string {
  return mintToken(
    { secret: localJwtSecret({}, dataDir), ...system.jwt },
    { sub, scope: CONSENTABLE_SCOPES.join(' ') },
    600,
  );
}

before(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'callgate-clients-'));
  dataDir = path.join(scratch, 'data');
  const p = runEntry('scripts/start-local.ts', startEnv());
  started = p;
  let exited = false;
  void p.exited.then(() => {
    exited = true;
  });
  await eventually('the npm start banner', async () =>
    exited || p.stdout().includes('Ctrl-C stops everything') ? true : undefined,
  );
  assert.equal(exited, false, `npm start exited:\n${p.stdout()}\n${p.stderr()}`);
  const running = readDiscovery(dataDir);
  assert.ok(running, 'npm start wrote its discovery file in DATA_DIR');
  system = running;
  try {
    const { stdout } = await run('npx', ['-y', 'node@22', '-p', 'process.execPath'], {
      cwd: root,
      timeout: CHILD_BOUND_MS,
    });
    node22 = { path: stdout.trim() };
  } catch (error) {
    node22 = { missing: String(error) };
    process.stderr.write(
      `\n!!! clients-real: Node 22 could not be fetched with \`npx -y node@22\`; the MCP Inspector and ` +
        `mcp-remote runs are SKIPPED. (${node22.missing.split('\n')[0]})\n\n`,
    );
  }
});
after(async () => {
  if (started) {
    started.child.kill('SIGTERM');
    assert.equal(await started.exited, 0, `npm start did not stop cleanly: ${started.stderr()}`);
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** The official v1 SDK client on any transport (it validates structuredContent against outputSchema). */
async function v1Over(transport: StreamableHTTPClientTransport | StdioClientTransport): Promise<ClientUnderTest> {
  const client = new Client({ name: 'callgate-clients-test', version: '1.0.0' });
  await client.connect(transport);
  return {
    listTools: async () => (await client.listTools()).tools.map((t) => t.name),
    callTool: async (name, args) => (await client.callTool({ name, arguments: args })) as Answer,
    close: () => client.close(),
  };
}

const CLIENTS: Record<string, { needsNode22: boolean; connect: (token: string) => Promise<ClientUnderTest> }> = {
  'official v1 SDK client': {
    needsNode22: false,
    connect: (token) =>
      v1Over(new StreamableHTTPClientTransport(new URL(system.mcpUrl), { requestInit: { headers: bearer(token) } })),
  },
  'official v2 SDK client': {
    needsNode22: false,
    connect: async (token) => {
      const client = new ModernClient({ name: 'callgate-clients-test', version: '1.0.0' });
      await client.connect(new ModernTransport(new URL(system.mcpUrl), { requestInit: { headers: bearer(token) } }));
      return {
        listTools: async () => (await client.listTools()).tools.map((t) => t.name),
        callTool: async (name, args) => (await client.callTool({ name, arguments: args })) as Answer,
        close: () => client.close(),
      };
    },
  },
  'mcp-remote (stdio bridge)': {
    needsNode22: true,
    connect: async (token) => {
      // The token in a file, not in the process list.
      const headers = path.join(scratch, `headers-${randomUUID()}`);
      writeFileSync(headers, `Authorization: Bearer ${token}\n`, { mode: 0o600 });
      const transport = new StdioClientTransport({
        command: (node22 as { path: string }).path,
        args: [MCP_REMOTE, system.mcpUrl, '--header-file', headers, '--transport', 'http-only'],
        env: { ...(process.env as Record<string, string>), MCP_REMOTE_CONFIG_DIR: path.join(scratch, 'mcp-auth') },
        stderr: 'pipe',
      });
      let log = '';
      transport.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
      });
      try {
        return await v1Over(transport);
      } catch (error) {
        throw new Error(`mcp-remote did not connect: ${String(error)}\n${log}`);
      }
    },
  },
  'MCP Inspector CLI': {
    needsNode22: true,
    connect: async (token) => {
      const inspector = async (args: string[]) => {
        const { stdout } = await run(
          (node22 as { path: string }).path,
          [
            INSPECTOR,
            '--cli',
            system.mcpUrl,
            '--transport',
            'http',
            '--header',
            `Authorization: Bearer ${token}`,
            ...args,
          ],
          {
            cwd: root,
            timeout: CHILD_BOUND_MS,
            env: { ...process.env, MCP_CATALOG_PATH: path.join(scratch, 'inspector-catalog.json') },
          },
        ).catch((error: { stdout?: string; stderr?: string; code?: number }) => {
          throw new Error(`the Inspector exited ${error.code}: ${error.stdout ?? ''} ${error.stderr ?? ''}`);
        });
        return JSON.parse(stdout) as Record<string, unknown>;
      };
      return {
        listTools: async () =>
          ((await inspector(['--method', 'tools/list'])).tools as { name: string }[]).map((t) => t.name),
        callTool: async (name, args) =>
          (await inspector([
            '--method',
            'tools/call',
            '--tool-name',
            name,
            ...Object.entries(args).flatMap(([key, value]) => [
              '--tool-arg',
              `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
            ]),
          ])) as Answer,
        close: async () => undefined,
      };
    },
  },
};

for (const [name, { needsNode22, connect }] of Object.entries(CLIENTS)) {
  describe(`every tool through the ${name}`, () => {
    let client: ClientUnderTest | undefined;
    const state: PlanState = {};
    const skipped = () => needsNode22 && 'missing' in node22;

    before(async () => {
      if (skipped()) return;
      // A user of its own: the plan places and cancels a call, and no client sees another's.
      client = await connect(tokenFor(`client-${randomUUID()}`));
    });
    after(async () => {
      await client?.close();
    });

    it('lists exactly the tools the plan calls', async (t) => {
      if (skipped()) return t.skip('Node 22 unavailable (see the message above)');
      assertPlanCovers(await (client as ClientUnderTest).listTools());
    });

    for (const step of TOOL_PLAN) {
      it(step.name, async (t) => {
        if (skipped()) return t.skip('Node 22 unavailable (see the message above)');
        if (step.needsAccount) return t.skip('needs an account of the authorization server: console-api.test.ts');
        const answer = await (client as ClientUnderTest).callTool(step.name, step.arguments(state));
        assert.notEqual(answer.isError, true, `${step.name} failed: ${JSON.stringify(answer.content)}`);
        assert.ok(answer.structuredContent, `${step.name} returned no structuredContent: ${JSON.stringify(answer)}`);
        step.remember?.(answer.structuredContent, state);
      });
    }
  });
}

/**
 * Every tool's output against its own outputSchema, as clients that validate see it: each tool is
 * called once through the official v1 SDK client (which rejects structuredContent its outputSchema
 * forbids) against the whole local system, and each structuredContent is also checked with Ajv in
 * strict mode (unknown keywords and formats are errors, every error listed). A tool whose output
 * drifts from its schema fails here, named, before a user's client rejects it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Ajv, type AnySchema } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { httpClient, tokenFor } from '../support/system.js';
import { assertPlanCovers, PLAN_SANDBOX_ENV, type PlanState, TOOL_PLAN } from '../support/tool-plan.js';

// ajv-formats is CommonJS: under ESM its function may arrive as the module's `default`.
type AddFormats = (ajv: Ajv | Ajv2020) => unknown;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;

/** A strict validator for the schema's own dialect (MCP's default is 2020-12; draft-07 when it says so). */
function strictValidator(schema: Record<string, unknown>) {
  const draft07 = typeof schema.$schema === 'string' && schema.$schema.includes('draft-07');
  const ajv = draft07 ? new Ajv({ strict: true, allErrors: true }) : new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema as AnySchema);
}

let system: LocalSystem;
let client: Client;
const schemas = new Map<string, Record<string, unknown>>();
const state: PlanState = {};

before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', ...PLAN_SANDBOX_ENV },
  });
  client = await httpClient(system, tokenFor(system, `schemas-${randomUUID()}`));
  // Also arms the v1 client's own output validation: it validates against the schemas it listed.
  const { tools } = await client.listTools();
  assertPlanCovers(tools.map((t) => t.name));
  for (const tool of tools) if (tool.outputSchema) schemas.set(tool.name, tool.outputSchema);
});
after(async () => {
  await client?.close();
  await system?.stop();
});

describe('every tool, its structuredContent against its outputSchema', () => {
  for (const step of TOOL_PLAN) {
    it(step.name, async (t) => {
      if (step.needsAccount) return t.skip('needs an account of the authorization server: console-api.test.ts');
      const schema = schemas.get(step.name);
      assert.ok(schema, `${step.name} declares an outputSchema`);
      // Rejects (McpError -32602) when structuredContent breaks the schema: what every v1 client sees.
      const result = await client.callTool({ name: step.name, arguments: step.arguments(state) });
      assert.notEqual(result.isError, true, `${step.name} failed: ${JSON.stringify(result.content)}`);
      const structured = result.structuredContent as Record<string, unknown> | undefined;
      assert.ok(structured, `${step.name} returns structuredContent`);
      step.remember?.(structured, state);
      const validate = strictValidator(schema);
      assert.ok(
        validate(structured),
        `${step.name}: ${JSON.stringify(validate.errors, null, 1)}\nin ${JSON.stringify(structured)}`,
      );
    });
  }
});

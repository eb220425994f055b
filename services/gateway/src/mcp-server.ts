import { McpServer } from '@modelcontextprotocol/server';
import type { Backends } from './backends.js';
import type { RequestStates } from './request-state.js';
import { guardResourceScopes } from './resource-scopes.js';
import { registerAccountResources } from './resources/account.js';
import { registerCallCompletion } from './resources/call-completion.js';
import { registerCallResources } from './resources/calls.js';
import { registerRecordingResources } from './resources/recordings.js';
import { registerWebhookResources } from './resources/webhooks.js';
import { reportSettledRequests } from './sdk-internals.js';
import type { CallSubscriptions } from './subscriptions.js';
import { registerCallTasks } from './tasks/task-methods.js';
import { observeToolCalls, type ToolTimer } from './tool-metrics.js';
import { registerAccountTools } from './tools/account.js';
import { registerAppTools } from './tools/apps.js';
import { registerCallTools } from './tools/calls.js';
import { registerEstimateTool } from './tools/estimate.js';
import { registerOptionTools } from './tools/options.js';
import { registerPreferenceTools } from './tools/preferences.js';
import { registerRecordingTools } from './tools/recordings.js';
import { registerWebhookTools } from './tools/webhooks.js';

export const SERVER_INFO = { name: 'callgate', version: '0.1.0' } as const;

/** What an extension gets besides the server: the gateway's sealer of multi-round request state. */
export interface ExtensionContext {
  requestState: RequestStates;
}

/** Registers more tools, resources or prompts on a server before it connects (test harnesses only). */
export type ServerExtension = (server: McpServer, context: ExtensionContext) => void;

export interface McpServerDeps {
  backends: Backends;
  /** Verifies echoed requestState before handlers run (a forged one is -32602). */
  requestState: RequestStates;
  /** Adds resources/subscribe to sessions of 2025-era clients. */
  subscriptions?: CallSubscriptions;
  extend?: ServerExtension;
  /** Times each tools/call (gateway_tool_duration_seconds; tool-metrics.ts). Default: not timed. */
  toolTimer?: ToolTimer;
}

/**
 * One MCP server (the SDK's protocol core) per session or connection, with every tool and resource registered.
 * Tools read the user from each request's auth info, never from the session, so a token refresh
 * within a session is honoured and a session cannot act as another user.
 * `extend` (test harnesses only, e.g. conformance fixtures) registers more on each server before it connects.
 */
export function createMcpServer(deps: McpServerDeps): McpServer {
  const { backends } = deps;
  const server = new McpServer(SERVER_INFO, {
    // logging: clients may set a level; the gateway sends no log messages of its own (2026-07-28 deprecates them).
    capabilities: {
      tools: { listChanged: false },
      resources: { listChanged: false, subscribe: true },
      logging: {},
    },
    requestState: { verify: (state, ctx) => deps.requestState.verify(state, ctx) },
    // 2026-07-28 clients may cache what is the same for everyone and fixed per release; what names a
    // user's calls (resources/list) or their account (resources/read) stays private and uncached.
    cacheHints: {
      'tools/list': { ttlMs: 300_000, cacheScope: 'public' },
      'resources/templates/list': { ttlMs: 300_000, cacheScope: 'public' },
      'server/discover': { ttlMs: 300_000, cacheScope: 'public' },
      'resources/list': { ttlMs: 0, cacheScope: 'private' },
      'resources/read': { ttlMs: 0, cacheScope: 'private' },
    },
    instructions:
      'callgate places real phone calls with an AI voice agent. Use getVoiceOptions and getModelOptions to ' +
      'choose, makePhoneCall to call (pass an idempotencyKey), then getCallProgress or getCallDetails.',
  });
  registerCallTools(server, backends);
  registerPreferenceTools(server, backends);
  registerOptionTools(server, backends);
  registerAccountTools(server, backends);
  registerEstimateTool(server, backends);
  registerAppTools(server, backends);
  registerRecordingTools(server, backends);
  registerWebhookTools(server, backends);
  registerAccountResources(server, backends);
  registerCallResources(server, backends);
  registerRecordingResources(server, backends);
  registerWebhookResources(server, backends);
  registerCallCompletion(server, backends);
  registerCallTasks(server, backends);
  if (deps.toolTimer) observeToolCalls(server, deps.toolTimer);
  deps.subscriptions?.attach(server);
  // After every resource is registered: listing and subscribing ask the scopes reading asks.
  guardResourceScopes(server);
  deps.extend?.(server, { requestState: deps.requestState });
  // Last: a cancelled request's in-flight place (WebSocket) is freed when its handler returns.
  reportSettledRequests(server);
  return server;
}

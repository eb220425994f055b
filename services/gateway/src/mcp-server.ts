import { McpServer } from '@modelcontextprotocol/server';
import type { Backends } from './backends.js';
import { registerAccountResources } from './resources/account.js';
import { registerCallResources } from './resources/calls.js';
import { registerAccountTools } from './tools/account.js';
import { registerCallTools } from './tools/calls.js';
import { registerOptionTools } from './tools/options.js';
import { registerPreferenceTools } from './tools/preferences.js';

export const SERVER_INFO = { name: 'callgate', version: '0.1.0' } as const;

/**
 * One MCP server (the SDK's protocol core) per session or connection, with every tool and resource registered.
 * Tools read the user from each request's auth info, never from the session, so a token refresh
 * within a session is honoured and a session cannot act as another user.
 */
export function createMcpServer(backends: Backends): McpServer {
  const server = new McpServer(SERVER_INFO, {
    capabilities: { tools: { listChanged: false }, resources: { listChanged: false } },
    instructions:
      'callgate places real phone calls with an AI voice agent. Use getVoiceOptions and getModelOptions to ' +
      'choose, makePhoneCall to call (pass an idempotencyKey), then getCallProgress or getCallDetails.',
  });
  registerCallTools(server, backends);
  registerPreferenceTools(server, backends);
  registerOptionTools(server, backends);
  registerAccountTools(server, backends);
  registerAccountResources(server, backends);
  registerCallResources(server, backends);
  return server;
}

import type { McpServer } from '@modelcontextprotocol/server';
import { Histogram, type Registry } from 'prom-client';
import { registeredTools, wrapSdkHandler } from './sdk-internals.js';

/** Observes one tools/call: the tool's name (or "unknown") and how it ended. */
export type ToolTimer = (tool: string, outcome: ToolOutcome, seconds: number) => void;

/**
 * ok: a result; tool_error: a result with isError (the tool refused: no credits, a gRPC failure mapped to
 * text); protocol_error: a JSON-RPC error (bad arguments, missing scope, unknown tool, a thrown fault).
 */
export type ToolOutcome = 'ok' | 'tool_error' | 'protocol_error';

/** gateway_tool_duration_seconds{tool,outcome}; one per replica, shared by every session's server. */
export function toolDurations(registry: Registry): ToolTimer {
  const histogram = new Histogram({
    name: 'gateway_tool_duration_seconds',
    help: 'Time to answer tools/call, by tool and outcome (makePhoneCall with wait includes the wait).',
    labelNames: ['tool', 'outcome'],
    // Up to 5 min: makePhoneCall may wait for the call to end; reads sit in the first buckets.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  });
  return (tool, outcome, seconds) => histogram.observe({ tool, outcome }, seconds);
}

/**
 * Times every tools/call of `server`, in front of all other handling (tasks included), so each tool is
 * measured once without each registration knowing its own name. The name comes from the client, so only
 * names the server has registered become label values (anything else is "unknown"): a client cannot grow
 * the metric's series without bound. Register after the tools and after other tools/call wrappers.
 */
export function observeToolCalls(server: McpServer, observe: ToolTimer): void {
  const registered = registeredTools(server);
  wrapSdkHandler(server, 'tools/call', async (request, ctx, sdk) => {
    const name = request.params?.name;
    const tool = typeof name === 'string' && Object.hasOwn(registered, name) ? name : 'unknown';
    const started = performance.now();
    let outcome: ToolOutcome = 'protocol_error';
    try {
      const result = await sdk(request, ctx);
      outcome = result.isError === true ? 'tool_error' : 'ok';
      return result;
    } finally {
      observe(tool, outcome, (performance.now() - started) / 1000);
    }
  });
}

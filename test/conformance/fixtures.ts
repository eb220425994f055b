/**
 * The tools, resources and prompts the official MCP conformance suite (@modelcontextprotocol/conformance)
 * calls by name, registered on the gateway's own MCP servers through `startGateway`'s `extend` option, so
 * the suite exercises the real gateway (auth, transports, sessions, the SDK core) and never a stand-in.
 * Test harness only: production never registers these.
 *
 * Names and payloads follow the scenario descriptions (`conformance list`, each scenario's requirements):
 * the 2025-11-25 scenarios (content types, progress, logging, sampling and elicitation by server request,
 * resources, prompts, completion) and the 2026-07-28 ones (multi-round-trip `input_required` results,
 * diagnostics of the stateless revision). What the gateway itself declares (its capabilities, whether it
 * offers logging or subscriptions) is left alone: the suite measures the gateway, the fixtures only give it
 * something to serve.
 */
import type { ExtensionContext, ServerExtension } from '@callgate/gateway';
import {
  acceptedContent,
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  completable,
  type ElicitRequestFormParams,
  fromJsonSchema,
  type GetPromptResult,
  inputRequired,
  inputResponse,
  type McpServer,
  ResourceTemplate,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

/** A 1×1 PNG (one blue pixel), built for these fixtures. */
export const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGOQz98CAAHzAUMBh4NgAAAAAElFTkSuQmCC';
/** A WAV file: 8 kHz, mono, 8-bit, eight samples of silence. */
export const WAV_BASE64 = 'UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==';

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Request state for the multi-round-trip fixtures, sealed by the gateway's own codec (HMAC, expiry, bound
 * to the user): the SDK verifies an echoed state before the handler runs and answers a forged one -32602.
 */
function stateSealer(codec: ExtensionContext['requestState']) {
  return {
    seal: (ctx: ServerContext, value: Record<string, unknown>) => codec.mint(value, ctx),
    /** The verified state, undefined when the request carried none. */
    open: (ctx: ServerContext) => ctx.mcpReq.requestState<Record<string, unknown>>(),
  };
}

const askName = (prompt = 'What is your name?') =>
  inputRequired.elicit({
    message: prompt,
    requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  });

/** Registers every conformance fixture on one gateway MCP server (pass as `startGateway`'s `extend`). */
export function conformanceFixtures(): ServerExtension {
  return (server: McpServer, context) => {
    registerContentTools(server);
    registerClientRequestTools(server);
    registerInputRequiredTools(server, stateSealer(context.requestState));
    registerResources(server);
    registerPrompts(server);
  };
}

/** 2025-11-25: content types, errors, progress, logging, a JSON Schema 2020-12 input schema. */
function registerContentTools(server: McpServer): void {
  server.registerTool('test_simple_text', { description: 'Returns one text block.' }, () =>
    text('This is a simple text response for testing.'),
  );
  server.registerTool('test_image_content', { description: 'Returns one PNG image.' }, () => ({
    content: [{ type: 'image', data: PNG_BASE64, mimeType: 'image/png' }],
  }));
  server.registerTool('test_audio_content', { description: 'Returns one WAV clip.' }, () => ({
    content: [{ type: 'audio', data: WAV_BASE64, mimeType: 'audio/wav' }],
  }));
  server.registerTool('test_embedded_resource', { description: 'Returns an embedded text resource.' }, () => ({
    content: [
      {
        type: 'resource',
        resource: {
          uri: 'test://embedded-resource',
          mimeType: 'text/plain',
          text: 'This is an embedded resource content.',
        },
      },
    ],
  }));
  server.registerTool(
    'test_multiple_content_types',
    { description: 'Returns text, an image and an embedded resource.' },
    () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: PNG_BASE64, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  );
  server.registerTool('test_error_handling', { description: 'Always fails (a tool error, isError).' }, () => {
    throw new Error('This tool intentionally returns an error for testing');
  });
  server.registerTool(
    'test_tool_with_progress',
    { description: 'Reports progress 0, 50 and 100 of 100, 50 ms apart.', inputSchema: z.object({}) },
    async (_args, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progressToken !== undefined) {
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress, total: 100, message: `${progress}%` },
          });
        }
        if (progress < 100) await sleep(50);
      }
      return text('progress reported');
    },
  );
  // Logs through the SDK, which sends nothing unless the server declares logging and the client's level allows it.
  const logThrice = async (ctx: ServerContext) => {
    await ctx.mcpReq.log('info', 'Tool execution started');
    await sleep(50);
    await ctx.mcpReq.log('info', 'Tool processing data');
    await sleep(50);
    await ctx.mcpReq.log('info', 'Tool execution completed');
    return text('logged three messages');
  };
  server.registerTool(
    'test_tool_with_logging',
    { description: 'Logs three info messages, 50 ms apart.', inputSchema: z.object({}) },
    (_args, ctx) => logThrice(ctx),
  );
  server.registerTool(
    'test_logging_tool',
    { description: 'Logs (2026-07-28 diagnostic: nothing may arrive without a requested log level).' },
    (ctx) => logThrice(ctx),
  );
  server.registerTool(
    'json_schema_2020_12_tool',
    {
      description: 'Tool with JSON Schema 2020-12 features',
      // Given as JSON Schema, so its 2020-12 keywords ($schema, $defs, $ref) reach tools/list as written.
      inputSchema: fromJsonSchema<Record<string, unknown>>({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: {
          address: {
            $anchor: 'addressDef',
            type: 'object',
            properties: { street: { type: 'string' }, city: { type: 'string' } },
          },
        },
        properties: {
          name: { type: 'string' },
          address: { $ref: '#/$defs/address' },
          contactMethod: { type: 'string', enum: ['phone', 'email'] },
          phone: { type: 'string' },
          email: { type: 'string' },
        },
        allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
        if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's conditional keyword, not a thenable.
        then: { required: ['phone'] },
        else: { required: ['email'] },
        additionalProperties: false,
      }),
    },
    (args) => text(`called with ${JSON.stringify(args)}`),
  );
}

/**
 * 2025-11-25: tools that ask the client mid-call (sampling and elicitation, by server request). They ask with
 * `ctx.mcpReq.send`, which ties the request to the tool call so it travels on that call's SSE stream; the
 * context's requestSampling/elicitInput send it unrelated, on the session's standalone GET stream, which the
 * client may not have opened yet (then the request is lost and the call waits out its timeout).
 */
function registerClientRequestTools(server: McpServer): void {
  server.registerTool(
    'test_sampling',
    { description: 'Asks the client to sample a completion.', inputSchema: z.object({ prompt: z.string() }) },
    async ({ prompt }, ctx) => {
      try {
        const result = await ctx.mcpReq.send({
          method: 'sampling/createMessage',
          params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 },
        });
        const content = Array.isArray(result.content) ? result.content[0] : result.content;
        return text(`LLM response: ${content?.type === 'text' ? content.text : JSON.stringify(content)}`);
      } catch (error) {
        return { isError: true, content: [{ type: 'text', text: `Sampling failed: ${message(error)}` }] };
      }
    },
  );
  const elicit = async (
    ctx: ServerContext,
    prompt: string,
    requestedSchema: ElicitRequestFormParams['requestedSchema'],
  ): Promise<CallToolResult> => {
    try {
      const result = await ctx.mcpReq.send({
        method: 'elicitation/create',
        params: { message: prompt, requestedSchema },
      });
      return text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
    } catch (error) {
      return { isError: true, content: [{ type: 'text', text: `Elicitation failed: ${message(error)}` }] };
    }
  };
  server.registerTool(
    'test_elicitation',
    { description: 'Asks the user for a name and an email.', inputSchema: z.object({ message: z.string() }) },
    (args, ctx) =>
      elicit(ctx, args.message, {
        type: 'object',
        properties: {
          username: { type: 'string', description: "User's response" },
          email: { type: 'string', description: "User's email address" },
        },
        required: ['username', 'email'],
      }),
  );
  server.registerTool(
    'test_elicitation_sep1034_defaults',
    { description: 'Elicits with a default for every primitive type (SEP-1034).', inputSchema: z.object({}) },
    (_args, ctx) =>
      elicit(ctx, 'Review the defaults', {
        type: 'object',
        properties: {
          name: { type: 'string', default: 'John Doe' },
          age: { type: 'integer', default: 30 },
          score: { type: 'number', default: 95.5 },
          status: { type: 'string', enum: ['active', 'inactive', 'pending'], default: 'active' },
          verified: { type: 'boolean', default: true },
        },
      }),
  );
  server.registerTool(
    'test_elicitation_sep1330_enums',
    { description: 'Elicits with the five enum forms (SEP-1330).', inputSchema: z.object({}) },
    (_args, ctx) =>
      elicit(ctx, 'Choose', {
        type: 'object',
        properties: {
          untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
          titledSingle: {
            type: 'string',
            oneOf: [
              { const: 'value1', title: 'First Option' },
              { const: 'value2', title: 'Second Option' },
              { const: 'value3', title: 'Third Option' },
            ],
          },
          legacyEnum: {
            type: 'string',
            enum: ['opt1', 'opt2', 'opt3'],
            enumNames: ['Option One', 'Option Two', 'Option Three'],
          },
          untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
          titledMulti: {
            type: 'array',
            items: {
              anyOf: [
                { const: 'value1', title: 'First Choice' },
                { const: 'value2', title: 'Second Choice' },
                { const: 'value3', title: 'Third Choice' },
              ],
            },
          },
        },
      }),
  );
}

/** 2026-07-28: multi-round-trip tools (SEP-2322) and the stateless revision's diagnostics (SEP-2575). */
function registerInputRequiredTools(server: McpServer, state: ReturnType<typeof stateSealer>): void {
  server.registerTool(
    'test_input_required_result_elicitation',
    { description: 'Asks for a name, then greets.' },
    (ctx) => {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'user_name', z.object({ name: z.string() }));
      if (!answer) return inputRequired({ inputRequests: { user_name: askName() } });
      return text(`Hello, ${answer.name}!`);
    },
  );
  server.registerTool('test_input_required_result_sampling', { description: 'Asks the client to sample.' }, (ctx) => {
    const answer = inputResponse(ctx.mcpReq.inputResponses, 'capital_question');
    if (answer.kind !== 'sampling') {
      return inputRequired({
        inputRequests: {
          capital_question: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }],
            maxTokens: 100,
          }),
        },
      });
    }
    const content = Array.isArray(answer.result.content) ? answer.result.content[0] : answer.result.content;
    return text(`Sampled: ${content?.type === 'text' ? content.text : JSON.stringify(content)}`);
  });
  server.registerTool('test_input_required_result_list_roots', { description: "Lists the client's roots." }, (ctx) => {
    const answer = inputResponse(ctx.mcpReq.inputResponses, 'client_roots');
    if (answer.kind !== 'roots') return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
    return text(`Roots: ${answer.roots.map((root) => root.uri).join(', ')}`);
  });
  server.registerTool(
    'test_input_required_result_request_state',
    { description: 'Asks for a confirmation, checks its own state.' },
    async (ctx) => {
      const saved = state.open(ctx);
      const ok = acceptedContent(ctx.mcpReq.inputResponses, 'confirm', z.object({ ok: z.boolean() }));
      if (saved?.tool !== 'request_state' || !ok) {
        return inputRequired({
          inputRequests: {
            confirm: inputRequired.elicit({
              message: 'Please confirm',
              requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
            }),
          },
          requestState: await state.seal(ctx, { tool: 'request_state' }),
        });
      }
      return text(`state-ok, confirmed: ${ok.ok}`);
    },
  );
  server.registerTool(
    'test_input_required_result_tampered_state',
    { description: 'Refuses altered state.' },
    async (ctx) => {
      const saved = state.open(ctx);
      const ok = acceptedContent(ctx.mcpReq.inputResponses, 'confirm', z.object({ ok: z.boolean() }));
      if (saved?.tool !== 'tampered_state' || !ok) {
        return inputRequired({
          inputRequests: {
            confirm: inputRequired.elicit({
              message: 'Please confirm',
              requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
            }),
          },
          requestState: await state.seal(ctx, { tool: 'tampered_state' }),
        });
      }
      return text('state verified');
    },
  );
  server.registerTool(
    'test_input_required_result_multiple_inputs',
    { description: 'Asks for an elicitation, a sample and the roots at once.' },
    async (ctx) => {
      const responses = ctx.mcpReq.inputResponses;
      const saved = state.open(ctx);
      const name = acceptedContent(responses, 'user_name', z.object({ name: z.string() }));
      const greeting = inputResponse(responses, 'greeting');
      const roots = inputResponse(responses, 'client_roots');
      if (saved?.tool !== 'multiple_inputs' || !name || greeting.kind !== 'sampling' || roots.kind !== 'roots') {
        return inputRequired({
          inputRequests: {
            user_name: askName(),
            greeting: inputRequired.createMessage({
              messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }],
              maxTokens: 50,
            }),
            client_roots: inputRequired.listRoots(),
          },
          requestState: await state.seal(ctx, { tool: 'multiple_inputs' }),
        });
      }
      return text(`Got ${name.name}, a greeting and ${roots.roots.length} root(s)`);
    },
  );
  server.registerTool(
    'test_input_required_result_multi_round',
    { description: 'Asks twice, then answers.' },
    async (ctx) => {
      const saved = state.open(ctx);
      const responses = ctx.mcpReq.inputResponses;
      if (saved?.tool === 'multi_round' && saved.round === 2) {
        const color = acceptedContent(responses, 'step2', z.object({ color: z.string() }));
        if (color) return text(`${String(saved.name)} likes ${color.color}`);
      }
      const name =
        saved?.tool === 'multi_round' ? acceptedContent(responses, 'step1', z.object({ name: z.string() })) : undefined;
      if (name) {
        return inputRequired({
          inputRequests: {
            step2: inputRequired.elicit({
              message: 'Step 2: What is your favorite color?',
              requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
            }),
          },
          requestState: await state.seal(ctx, { tool: 'multi_round', round: 2, name: name.name }),
        });
      }
      return inputRequired({
        inputRequests: { step1: askName('Step 1: What is your name?') },
        requestState: await state.seal(ctx, { tool: 'multi_round', round: 1 }),
      });
    },
  );
  server.registerTool(
    'test_input_required_result_capabilities',
    { description: 'Asks only for what the client declared it can do.' },
    (ctx) => {
      // The request's own declaration on 2026-07-28; the session's (from initialize) on older revisions.
      const envelope = ctx.mcpReq.envelope as Record<string, ClientCapabilities | undefined> | undefined;
      const declared = envelope?.[CLIENT_CAPABILITIES_META_KEY] ?? server.server.getClientCapabilities();
      const done = inputResponse(ctx.mcpReq.inputResponses, 'question');
      if (done.kind !== 'missing') return text('answered');
      if (declared?.elicitation) return inputRequired({ inputRequests: { question: askName() } });
      if (declared?.sampling) {
        return inputRequired({
          inputRequests: {
            question: inputRequired.createMessage({
              messages: [{ role: 'user', content: { type: 'text', text: 'Say hello' } }],
              maxTokens: 20,
            }),
          },
        });
      }
      return text('the client can answer nothing; nothing asked');
    },
  );
  // Needs sampling whatever the client declared: the SDK must refuse it with -32021 when sampling is undeclared.
  server.registerTool('test_missing_capability', { description: 'Needs the sampling capability.' }, (ctx) => {
    if (inputResponse(ctx.mcpReq.inputResponses, 'sample').kind === 'sampling') return text('sampled');
    return inputRequired({
      inputRequests: {
        sample: inputRequired.createMessage({
          messages: [{ role: 'user', content: { type: 'text', text: 'Say hello' } }],
          maxTokens: 20,
        }),
      },
    });
  });
  server.registerTool('test_streaming_elicitation', { description: 'Elicits on the response stream.' }, (ctx) => {
    const answer = acceptedContent(ctx.mcpReq.inputResponses, 'user_name', z.object({ name: z.string() }));
    if (!answer) return inputRequired({ inputRequests: { user_name: askName() } });
    return text(`Hello, ${answer.name}!`);
  });
}

function registerResources(server: McpServer): void {
  server.registerResource(
    'Static Text Resource',
    'test://static-text',
    { description: 'A static text resource for testing', mimeType: 'text/plain' },
    (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
    }),
  );
  server.registerResource(
    'Static Binary Resource',
    'test://static-binary',
    { description: 'A static binary resource (image) for testing', mimeType: 'image/png' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG_BASE64 }] }),
  );
  server.registerResource(
    'Resource Template',
    new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    { description: 'A resource template with parameter substitution', mimeType: 'application/json' },
    (uri, { id }) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'application/json',
          text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${String(id)}` }),
        },
      ],
    }),
  );
  server.registerResource(
    'Watched Resource',
    'test://watched-resource',
    { description: 'A resource a client may subscribe to', mimeType: 'text/plain' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content' }] }),
  );
}

function registerPrompts(server: McpServer): void {
  // The gateway's lists are fixed for a server's life (tools and resources say listChanged: false); so are these.
  server.server.registerCapabilities({ prompts: { listChanged: false } });
  server.registerPrompt('test_simple_prompt', { description: 'A prompt without arguments' }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      description: 'A prompt with required arguments',
      argsSchema: z.object({
        arg1: completable(z.string().describe('First test argument'), (value) =>
          ['paris', 'park', 'party'].filter((word) => word.startsWith(value)),
        ),
        arg2: z.string().describe('Second test argument'),
      }),
    },
    ({ arg1, arg2 }) => ({
      messages: [
        { role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } },
      ],
    }),
  );
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      description: 'A prompt that embeds a resource',
      argsSchema: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
    },
    ({ resourceUri }): GetPromptResult => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' },
          },
        },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );
  server.registerPrompt('test_prompt_with_image', { description: 'A prompt that includes an image' }, () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: PNG_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));
  server.registerPrompt(
    'test_input_required_result_prompt',
    { description: 'A prompt that first asks the user for context (SEP-2322)' },
    (ctx) => {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'user_context', z.object({ context: z.string() }));
      if (!answer) {
        return inputRequired({
          inputRequests: {
            user_context: inputRequired.elicit({
              message: 'What context should the prompt use?',
              requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] },
            }),
          },
        });
      }
      return { messages: [{ role: 'user', content: { type: 'text', text: `Use this context: ${answer.context}` } }] };
    },
  );
}

/**
 * OpenAPI 3.1 for the gateway's plain HTTP endpoints. MCP itself is JSON-RPC over one endpoint, so
 * /mcp is described as a transport (methods, headers, auth, status codes); the tools and resources
 * it serves are on /docs, read from the live registry.
 */

export interface OpenApiInput {
  /** The URL clients use, e.g. https://api.example.com (no trailing slash). */
  baseUrl: string;
  serverInfo: { name: string; version: string };
  /** Scopes a token may carry (advertised in the protected-resource metadata too). */
  scopes: string[];
}

const jsonRpcError = {
  description: 'A JSON-RPC error object in the body.',
  content: {
    'application/json': {
      schema: { $ref: '#/components/schemas/JsonRpcError' },
    },
  },
};

const requestIdHeader = {
  'X-Request-Id': {
    description:
      "The request's id (the caller's, when plain and at most 128 characters), also in every service's logs.",
    schema: { type: 'string' },
  },
};

export function buildOpenApi(input: OpenApiInput): Record<string, unknown> {
  const mcpUrl = `${input.baseUrl}/mcp`;
  const sessionHeader = {
    name: 'Mcp-Session-Id',
    in: 'header',
    required: false,
    description: 'The session of a 2025-era client (from its initialize response); 2026-07-28 clients are stateless.',
    schema: { type: 'string' },
  };
  const noAuth: unknown[] = [];
  return {
    openapi: '3.1.0',
    info: {
      title: `${input.serverInfo.name} gateway`,
      version: input.serverInfo.version,
      description:
        'Places real phone calls with an AI voice agent through the Model Context Protocol. The MCP endpoint ' +
        'is /mcp (Streamable HTTP, or WebSocket by upgrade with subprotocol "mcp"); its tools and resources, ' +
        'their JSON Schemas and required scopes are listed on /docs. Twilio status callbacks ' +
        '(POST /twilio/status, form-encoded, signed with X-Twilio-Signature) go to the call service, not here.',
    },
    servers: [{ url: input.baseUrl }],
    paths: {
      '/mcp': {
        post: {
          operationId: 'mcpPost',
          summary: 'Send an MCP JSON-RPC message',
          description:
            'One JSON-RPC request, notification or response. Requests are answered with application/json or ' +
            'an SSE stream (text/event-stream) carrying progress notifications and then the response.',
          parameters: [
            sessionHeader,
            {
              name: 'MCP-Protocol-Version',
              in: 'header',
              required: false,
              schema: { type: 'string', examples: ['2025-11-25'] },
            },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/JsonRpcMessage' } } },
          },
          responses: {
            '200': {
              description: 'The JSON-RPC response, or an SSE stream ending with it.',
              headers: requestIdHeader,
              content: {
                'application/json': { schema: { $ref: '#/components/schemas/JsonRpcMessage' } },
                'text/event-stream': { schema: { type: 'string' } },
              },
            },
            '202': { description: 'A notification or response was accepted.', headers: requestIdHeader },
            '400': jsonRpcError,
            '401': {
              ...jsonRpcError,
              description: 'Missing or invalid bearer token; WWW-Authenticate names the resource metadata.',
            },
            '403': { ...jsonRpcError, description: 'Origin not allowed, or the token lacks a scope the tool needs.' },
            '404': { ...jsonRpcError, description: 'Unknown or expired Mcp-Session-Id: initialize again.' },
            '413': { ...jsonRpcError, description: 'The body is larger than MCP_MAX_BODY_BYTES.' },
            '429': { ...jsonRpcError, description: 'Rate limited for this user; Retry-After says when to retry.' },
            '503': {
              ...jsonRpcError,
              description: 'Temporarily unable (e.g. the token keys cannot be fetched); retry.',
            },
          },
        },
        get: {
          operationId: 'mcpGet',
          summary: 'Open the server-to-client SSE stream of a session, or upgrade to WebSocket',
          description:
            'With Accept: text/event-stream and an Mcp-Session-Id: the stream of server notifications. With ' +
            'Upgrade: websocket and Sec-WebSocket-Protocol: mcp: one JSON-RPC message per text frame.',
          parameters: [sessionHeader],
          responses: {
            '200': { description: 'An SSE stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
            '101': { description: 'Switched to the WebSocket protocol "mcp".' },
            '401': jsonRpcError,
            '404': jsonRpcError,
          },
        },
        delete: {
          operationId: 'mcpDelete',
          summary: 'End a session',
          parameters: [{ ...sessionHeader, required: true }],
          responses: { '200': { description: 'The session is closed.' }, '401': jsonRpcError, '404': jsonRpcError },
        },
      },
      '/.well-known/oauth-protected-resource': {
        get: {
          operationId: 'protectedResourceMetadata',
          summary: 'OAuth 2.0 Protected Resource Metadata (RFC 9728)',
          description: `Also served at /.well-known/oauth-protected-resource/mcp. Names the resource (${mcpUrl}) and its scopes.`,
          security: noAuth,
          responses: {
            '200': {
              description: 'The metadata.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/ProtectedResourceMetadata' } } },
            },
          },
        },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness of the public HTTP server',
          description: 'Readiness of the backends is on the ops port (/readyz), not here.',
          security: noAuth,
          responses: {
            '200': {
              description: 'The server answers.',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { status: { const: 'ok' } }, required: ['status'] },
                },
              },
            },
          },
        },
      },
      '/docs': {
        get: {
          operationId: 'docs',
          summary: 'This documentation: the MCP tools and resources, read from the running server',
          security: noAuth,
          responses: {
            '200': { description: 'An HTML page.', content: { 'text/html': { schema: { type: 'string' } } } },
          },
        },
      },
      '/docs/api': {
        get: {
          operationId: 'docsApi',
          summary: 'This OpenAPI document in Swagger UI (served from the gateway itself, no CDN)',
          security: noAuth,
          responses: {
            '200': { description: 'An HTML page.', content: { 'text/html': { schema: { type: 'string' } } } },
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This OpenAPI document',
          security: noAuth,
          responses: {
            '200': { description: 'OpenAPI 3.1.', content: { 'application/json': { schema: { type: 'object' } } } },
          },
        },
      },
    },
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `A JWT whose audience is ${mcpUrl}. Scopes: ${input.scopes.join(', ')}; each tool needs the scopes /docs lists.`,
        },
      },
      schemas: {
        JsonRpcMessage: {
          type: 'object',
          properties: {
            jsonrpc: { const: '2.0' },
            id: { type: ['string', 'integer'] },
            method: { type: 'string', examples: ['tools/call'] },
            params: { type: 'object' },
            result: { type: 'object' },
            error: { $ref: '#/components/schemas/JsonRpcErrorObject' },
          },
          required: ['jsonrpc'],
        },
        JsonRpcErrorObject: {
          type: 'object',
          properties: { code: { type: 'integer' }, message: { type: 'string' }, data: {} },
          required: ['code', 'message'],
        },
        JsonRpcError: {
          type: 'object',
          properties: {
            jsonrpc: { const: '2.0' },
            id: { type: ['string', 'integer', 'null'] },
            error: { $ref: '#/components/schemas/JsonRpcErrorObject' },
          },
          required: ['jsonrpc', 'error'],
        },
        ProtectedResourceMetadata: {
          type: 'object',
          properties: {
            resource: { type: 'string', format: 'uri' },
            bearer_methods_supported: { type: 'array', items: { type: 'string' } },
            resource_name: { type: 'string' },
            scopes_supported: { type: 'array', items: { type: 'string', enum: input.scopes } },
          },
          required: ['resource'],
        },
      },
    },
  };
}

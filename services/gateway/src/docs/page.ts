/**
 * The /docs page: the live catalogue (tools, resources) and the HTTP endpoints of the OpenAPI document,
 * rendered on the server as one self-contained HTML page (no script, no external asset: it must work
 * with no network, and a strict CSP keeps it inert). The interactive view of the OpenAPI document is a
 * separate page (docs/api, swagger-ui.ts), so this one stays script-free.
 */
import type { Catalog, ResourceDoc, ToolDoc } from './catalog.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
const json = (value: unknown) => `<pre><code>${esc(JSON.stringify(value, null, 2))}</code></pre>`;
const scopes = (list: string[]) =>
  list.length > 0
    ? list.map((s) => `<span class="scope">${esc(s)}</span>`).join(' ')
    : '<span class="muted">any authenticated caller</span>';

function hints(annotations: Record<string, unknown> | undefined): string {
  const set = Object.entries(annotations ?? {}).filter(([key]) => key.endsWith('Hint'));
  if (set.length === 0) return '';
  return `<p class="hints">${set.map(([k, v]) => `<span class="hint">${esc(k)}: ${esc(v)}</span>`).join(' ')}</p>`;
}

function tool(t: ToolDoc): string {
  return `<section class="tool" id="tool-${esc(t.name)}" data-tool="${esc(t.name)}">
  <h3><code>${esc(t.name)}</code>${t.title ? ` <span class="title">${esc(t.title)}</span>` : ''}</h3>
  <p>${esc(t.description)}</p>
  <p>Scopes: ${scopes(t.scopes)}</p>
  ${hints(t.annotations)}
  <details open><summary>Example request</summary>${json({ jsonrpc: '2.0', id: 1, ...t.example })}</details>
  <details><summary>Input schema</summary>${json(t.inputSchema)}</details>
  ${t.outputSchema ? `<details><summary>Output schema (structuredContent)</summary>${json(t.outputSchema)}</details>` : ''}
</section>`;
}

function resource(r: ResourceDoc): string {
  const address = r.uri ?? r.uriTemplate ?? '';
  return `<section class="resource" data-resource="${esc(r.name)}">
  <h3><code>${esc(address)}</code>${r.title ? ` <span class="title">${esc(r.title)}</span>` : ''}</h3>
  <p>${esc(r.description)}</p>
  <p>Name: <code>${esc(r.name)}</code>${r.mimeType ? ` · ${esc(r.mimeType)}` : ''} · Scopes: ${scopes(r.scopes)}</p>
</section>`;
}

type Operation = { summary?: string; security?: unknown[] };

function endpoints(openapi: Record<string, unknown>): string {
  const paths = (openapi.paths ?? {}) as Record<string, Record<string, Operation>>;
  const rows = Object.entries(paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(
      ([method, op]) =>
        `<tr><td><code>${esc(method.toUpperCase())}</code></td><td><code>${esc(path)}</code></td><td>${esc(op.summary)}</td><td>${
          Array.isArray(op.security) && op.security.length === 0 ? 'none' : 'bearer JWT'
        }</td></tr>`,
    ),
  );
  return `<table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Auth</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1b1f24}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f5f7f9;padding:.75rem;overflow:auto;border-radius:4px}
section{border-top:1px solid #d8dee4;padding:.5rem 0}.title{font-weight:normal;color:#57606a}.muted{color:#57606a}
.scope,.hint{display:inline-block;background:#ddf4ff;border-radius:3px;padding:0 .4rem;margin-right:.2rem;font-size:13px}
.hint{background:#eef1f4}table{border-collapse:collapse;width:100%}td,th{text-align:left;border-bottom:1px solid #d8dee4;padding:.3rem}
nav a{margin-right:1rem}h3 code{font-size:1.05em}`;

export function renderDocsPage(catalog: Catalog, openapi: Record<string, unknown>): string {
  const info = (openapi.info ?? {}) as { description?: string };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(catalog.server.name)} API</title><style>${STYLE}</style></head>
<body>
<h1>${esc(catalog.server.name)} <span class="title">${esc(catalog.server.version)}</span></h1>
<p>${esc(info.description)}</p>
${catalog.instructions ? `<p><strong>For agents:</strong> ${esc(catalog.instructions)}</p>` : ''}
<p>Listed from the running server over MCP ${esc(catalog.protocolVersion)}: what is here is what it serves.
Machine-readable: <a href="openapi.json">openapi.json</a> (HTTP endpoints; browse it in
<a href="docs/api">Swagger UI</a>); <code>tools/list</code> on /mcp (tools).</p>
<nav><a href="#tools">Tools (${catalog.tools.length})</a><a href="#resources">Resources (${
    catalog.resources.length + catalog.resourceTemplates.length
  })</a><a href="#http">HTTP endpoints</a></nav>
<h2 id="tools">Tools</h2>
${catalog.tools.map(tool).join('\n')}
<h2 id="resources">Resources</h2>
${catalog.resources.map(resource).join('\n')}
<h2 id="resource-templates">Resource templates</h2>
${catalog.resourceTemplates.map(resource).join('\n')}
<h2 id="http">HTTP endpoints</h2>
<p>Schemas, responses and a request console: <a href="docs/api">Swagger UI</a>.</p>
${endpoints(openapi)}
</body></html>`;
}
